"""The security headers every answer of the web service carries: a page may load only what this
service serves (no CDN, no inline script), may not be framed, and sends no Referer."""

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",  # the QR code is an SVG data: URL
        "media-src 'self' blob:",  # the till's camera stream
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
    # The till asks for the camera; nothing else is wanted.
    ("permissions-policy", "camera=(self), microphone=(), geolocation=(), payment=()"),
)
