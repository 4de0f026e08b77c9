"""``funai keys``: BIP340 Schnorr keys (secp256k1), signing and verification.

Exit status: 0 on success (``verify`` prints ``valid``), 1 for a signature that does not
verify (prints ``invalid``), 2 for malformed input, with a one-line error on stderr.
"""

from __future__ import annotations

import typer

from funai import keys
from funai.cli.common import JSON_OPTION, echo, fail, print_json
from funai.cli.vrf import EXIT_INVALID, EXIT_MALFORMED, hex_input, print_keypair
from funai.errors import MalformedInputError

app = typer.Typer(
    help="BIP340 Schnorr keys (secp256k1): new key, public key, sign, verify.",
    no_args_is_help=True,
)


@app.command()
def new(as_json: bool = JSON_OPTION) -> None:
    """Generate a Schnorr key pair (32-byte secret key, 32-byte x-only public key), in hex.

    --json fields: secret_key, public_key.
    """
    secret, public = keys.schnorr_keygen()
    print_keypair(secret, public, as_json)


@app.command()
def pubkey(
    sk: str = typer.Option(..., "--sk", help="Secret key, 32 bytes in hex."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Print the x-only public key of a secret key, in hex.

    --json fields: public_key.
    """
    secret = hex_input(sk, "--sk")
    try:
        public = keys.schnorr_public_key(secret)
    except MalformedInputError as err:
        fail(str(err), EXIT_MALFORMED)
    if as_json:
        print_json({"public_key": public.hex()})
    else:
        print(public.hex())


@app.command()
def sign(
    sk: str = typer.Option(..., "--sk", help="Secret key, 32 bytes in hex."),
    msg: str = typer.Option(..., "--msg", help="Message in hex (any length)."),
    aux: str | None = typer.Option(
        None, "--aux", help="BIP340 aux_rand, 32 bytes in hex (default: fresh random bytes)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Print the 64-byte BIP340 signature of MSG, in hex.

    --json fields: signature, public_key.
    """
    secret, message = hex_input(sk, "--sk"), hex_input(msg, "--msg")
    aux_rand = None if aux is None else hex_input(aux, "--aux")
    try:
        sig = keys.schnorr_sign(secret, message, aux_rand)
        public = keys.schnorr_public_key(secret) if as_json else b""
    except MalformedInputError as err:
        fail(str(err), EXIT_MALFORMED)
    if as_json:
        print_json({"signature": sig.hex(), "public_key": public.hex()})
    else:
        print(sig.hex())


@app.command()
def verify(
    pk: str = typer.Option(..., "--pk", help="x-only public key, 32 bytes in hex."),
    msg: str = typer.Option(..., "--msg", help="Message in hex (any length)."),
    sig: str = typer.Option(..., "--sig", help="Signature, 64 bytes in hex."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Verify a BIP340 signature: print "valid" (exit 0) or "invalid" (exit 1).

    --json fields: valid (true or false), with the same exit codes.
    """
    public, message = hex_input(pk, "--pk"), hex_input(msg, "--msg")
    signature = hex_input(sig, "--sig")
    try:
        ok = keys.schnorr_verify(public, message, signature)
    except MalformedInputError as err:
        fail(str(err), EXIT_MALFORMED)
    if as_json:
        print_json({"valid": ok})
    else:
        echo("valid" if ok else "invalid", "bold green" if ok else "bold red")
    if not ok:
        raise typer.Exit(EXIT_INVALID)
