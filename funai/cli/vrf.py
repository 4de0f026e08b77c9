"""``funai vrf``: ECVRF keys, proofs and outputs (RFC 9381, ECVRF-EDWARDS25519-SHA512-TAI).

Exit status: 0 on success, 1 for a proof that does not verify, 2 for malformed input
(bad hex, wrong length, invalid point); errors are one line on stderr.
"""

from __future__ import annotations

import json

import typer

from funai import vrf
from funai.cli.common import fail, parse_hex
from funai.errors import MalformedInputError, VerificationError

EXIT_INVALID = 1
EXIT_MALFORMED = 2

app = typer.Typer(
    help="ECVRF (RFC 9381, ECVRF-EDWARDS25519-SHA512-TAI): keys, proofs, outputs.",
    no_args_is_help=True,
)


def hex_input(value: str, what: str) -> bytes:
    """Decodes a hex option; bad hex is malformed input (exit 2, one line on stderr)."""
    try:
        return parse_hex(value, what)
    except typer.Exit as exit_:
        raise typer.Exit(EXIT_MALFORMED) from exit_


def print_keypair(secret: bytes, public: bytes, as_json: bool) -> None:
    """Prints a key pair as two ``name: hex`` lines or one JSON object."""
    if as_json:
        print(json.dumps({"secret_key": secret.hex(), "public_key": public.hex()}))
    else:
        print(f"secret_key: {secret.hex()}")
        print(f"public_key: {public.hex()}")


JSON_OPTION = typer.Option(False, "--json", help="Print one JSON object.")


@app.command()
def keygen(as_json: bool = JSON_OPTION) -> None:
    """Generate a VRF key pair (32-byte secret seed, 32-byte public key), in hex."""
    secret, public = vrf.keygen()
    print_keypair(secret, public, as_json)


@app.command()
def prove(
    sk: str = typer.Option(..., "--sk", help="Secret seed, 32 bytes in hex."),
    alpha: str = typer.Option(..., "--alpha", help="Input alpha in hex (may be empty)."),
) -> None:
    """Print the 80-byte proof of ALPHA under the secret key, in hex."""
    secret, message = hex_input(sk, "--sk"), hex_input(alpha, "--alpha")
    try:
        proof = vrf.prove(secret, message)
    except MalformedInputError as err:
        fail(str(err), EXIT_MALFORMED)
    print(proof.hex())


@app.command()
def verify(
    pk: str = typer.Option(..., "--pk", help="Public key, 32 bytes in hex."),
    alpha: str = typer.Option(..., "--alpha", help="Input alpha in hex (may be empty)."),
    proof: str = typer.Option(..., "--proof", help="Proof, 80 bytes in hex."),
) -> None:
    """Verify a proof; print the 64-byte output beta in hex (exit 1 if invalid, 2 if malformed)."""
    public, message = hex_input(pk, "--pk"), hex_input(alpha, "--alpha")
    pi = hex_input(proof, "--proof")
    try:
        beta = vrf.verify(public, message, pi)
    except VerificationError as err:
        fail(str(err), EXIT_INVALID)
    except MalformedInputError as err:
        fail(str(err), EXIT_MALFORMED)
    print(beta.hex())


@app.command("hash")
def proof_hash(
    proof: str = typer.Option(..., "--proof", help="Proof, 80 bytes in hex."),
) -> None:
    """Print the 64-byte output beta of a proof, in hex, WITHOUT verifying it."""
    pi = hex_input(proof, "--proof")
    try:
        beta = vrf.proof_to_hash(pi)
    except MalformedInputError as err:
        fail(str(err), EXIT_MALFORMED)
    print(beta.hex())
