"""``funai vrf``: ECVRF keys, proofs and outputs (RFC 9381, ECVRF-EDWARDS25519-SHA512-TAI).

Exit status: 0 on success, 1 for a proof that does not verify, 2 for malformed input
(bad hex, wrong length, invalid point); errors are one line on stderr.
"""

from __future__ import annotations

import typer

from funai import vrf
from funai.cli.common import EXIT_FAILURE, EXIT_USAGE, JSON_OPTION, fail, parse_hex, print_json
from funai.errors import MalformedInputError, VerificationError

EXIT_INVALID = EXIT_FAILURE
EXIT_MALFORMED = EXIT_USAGE

app = typer.Typer(
    help="ECVRF (RFC 9381, ECVRF-EDWARDS25519-SHA512-TAI): keys, proofs, outputs.",
    no_args_is_help=True,
)


def hex_input(value: str, what: str) -> bytes:
    """Decodes a hex option; bad hex is malformed input (exit 2, one line on stderr)."""
    return parse_hex(value, what, EXIT_MALFORMED)


def print_keypair(secret: bytes, public: bytes, as_json: bool) -> None:
    """Prints a key pair as two ``name: hex`` lines or one JSON object."""
    if as_json:
        print_json({"secret_key": secret.hex(), "public_key": public.hex()})
    else:
        print(f"secret_key: {secret.hex()}")
        print(f"public_key: {public.hex()}")


@app.command()
def keygen(as_json: bool = JSON_OPTION) -> None:
    """Generate a VRF key pair (32-byte secret seed, 32-byte public key), in hex.

    --json fields: secret_key, public_key.
    """
    secret, public = vrf.keygen()
    print_keypair(secret, public, as_json)


@app.command()
def prove(
    sk: str = typer.Option(..., "--sk", help="Secret seed, 32 bytes in hex."),
    alpha: str = typer.Option(..., "--alpha", help="Input alpha in hex (may be empty)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Print the 80-byte proof of ALPHA under the secret key, in hex.

    --json fields: proof, beta (the proof's 64-byte output).
    """
    secret, message = hex_input(sk, "--sk"), hex_input(alpha, "--alpha")
    try:
        proof = vrf.prove(secret, message)
        beta = vrf.proof_to_hash(proof) if as_json else b""
    except MalformedInputError as err:
        fail(str(err), EXIT_MALFORMED)
    if as_json:
        print_json({"proof": proof.hex(), "beta": beta.hex()})
    else:
        print(proof.hex())


@app.command()
def verify(
    pk: str = typer.Option(..., "--pk", help="Public key, 32 bytes in hex."),
    alpha: str = typer.Option(..., "--alpha", help="Input alpha in hex (may be empty)."),
    proof: str = typer.Option(..., "--proof", help="Proof, 80 bytes in hex."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Verify a proof; print the 64-byte output beta in hex.

    Exit 1 if the proof is invalid, 2 if an input is malformed. --json fields:
    valid, beta (hex, or null when invalid).
    """
    public, message = hex_input(pk, "--pk"), hex_input(alpha, "--alpha")
    pi = hex_input(proof, "--proof")
    try:
        beta = vrf.verify(public, message, pi)
    except VerificationError as err:
        if as_json:
            print_json({"valid": False, "beta": None})
        fail(str(err), EXIT_INVALID)
    except MalformedInputError as err:
        fail(str(err), EXIT_MALFORMED)
    if as_json:
        print_json({"valid": True, "beta": beta.hex()})
    else:
        print(beta.hex())


@app.command("hash")
def proof_hash(
    proof: str = typer.Option(..., "--proof", help="Proof, 80 bytes in hex."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Print the 64-byte output beta of a proof, in hex, WITHOUT verifying it.

    --json fields: beta.
    """
    pi = hex_input(proof, "--proof")
    try:
        beta = vrf.proof_to_hash(pi)
    except MalformedInputError as err:
        fail(str(err), EXIT_MALFORMED)
    if as_json:
        print_json({"beta": beta.hex()})
    else:
        print(beta.hex())
