"""The QR picture of a code the partners service issued: made here, from the code alone (it
carries no personal data), as an SVG the page shows as an image."""

import io

import segno


def qr_svg(code: str) -> str:
    """A standalone SVG (with its namespace, so it works as an <img>): dark on white with the
    quiet zone scanners need, error correction M (a phone screen's glare costs a few modules)."""
    qr = segno.make(code, error="m", micro=False)
    out = io.BytesIO()
    qr.save(out, kind="svg", scale=6, border=4, dark="#000", light="#fff", xmldecl=False, svgclass=None,
            lineclass=None, title="会员卡动态码")  # fmt: skip
    return out.getvalue().decode("utf-8")
