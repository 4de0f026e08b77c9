"""``funai keys``: BIP340 Schnorr keys (secp256k1), signing and verification.

Exit status: 0 on success (``verify`` prints ``valid``), 1 for a signature that does not
verify (prints ``invalid``), 2 for malformed input, with a one-line error on stderr.
"""

from __future__ import annotations

import typer

from funai import keys
from funai.cli.common import fail
from funai.cli.vrf import EXIT_INVALID, EXIT_MALFORMED, JSON_OPTION, hex_input, print_keypair
from funai.errors import MalformedInputError

app = typer.Typer(
    help="BIP340 Schnorr keys (secp256k1): new key, public key, sign, verify.",
    no_args_is_help=True,
)


@app.command()
def new(as_json: bool = JSON_OPTION) -> None:
    """Generate a Schnorr key pair (32-byte secret key, 32-byte x-only public key), in hex."""
    secret, public = keys.schnorr_keygen()
    print_keypair(secret, public, as_json)


@app.command()
def pubkey(
    sk: str = typer.Option(..., "--sk", help="Secret key, 32 bytes in hex."),
) -> None:
    """Print the x-only public key of a secret key, in hex."""
    secret = hex_input(sk, "--sk")
    try:
        public = keys.schnorr_public_key(secret)
    except MalformedInputError as err:
        fail(str(err), EXIT_MALFORMED)
    print(public.hex())


@app.command()
def sign(
    sk: str = typer.Option(..., "--sk", help="Secret key, 32 bytes in hex."),
    msg: str = typer.Option(..., "--msg", help="Message in hex (any length)."),
    aux: str | None = typer.Option(
        None, "--aux", help="BIP340 aux_rand, 32 bytes in hex (default: fresh random bytes)."
    ),
) -> None:
    """Print the 64-byte BIP340 signature of MSG, in hex."""
    secret, message = hex_input(sk, "--sk"), hex_input(msg, "--msg")
    aux_rand = None if aux is None else hex_input(aux, "--aux")
    try:
        sig = keys.schnorr_sign(secret, message, aux_rand)
    except MalformedInputError as err:
        fail(str(err), EXIT_MALFORMED)
    print(sig.hex())


@app.command()
def verify(
    pk: str = typer.Option(..., "--pk", help="x-only public key, 32 bytes in hex."),
    msg: str = typer.Option(..., "--msg", help="Message in hex (any length)."),
    sig: str = typer.Option(..., "--sig", help="Signature, 64 bytes in hex."),
) -> None:
    """Verify a BIP340 signature: print "valid" (exit 0) or "invalid" (exit 1)."""
    public, message = hex_input(pk, "--pk"), hex_input(msg, "--msg")
    signature = hex_input(sig, "--sig")
    try:
        ok = keys.schnorr_verify(public, message, signature)
    except MalformedInputError as err:
        fail(str(err), EXIT_MALFORMED)
    print("valid" if ok else "invalid")
    if not ok:
        raise typer.Exit(EXIT_INVALID)
