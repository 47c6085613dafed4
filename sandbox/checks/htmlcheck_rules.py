"""What the HTML compatibility check looks for: caniemail slugs and how each is detected.

The tables follow Mailpit's ``internal/htmlcheck/config.go`` (axllent/mailpit, MIT), so the same
message gives the same warnings. Differences, on purpose: the property regexes are written
without nested quantifiers (``\\s*+`` for ``(\\s+)?``, possessive digit runs), so each is linear in
the style text; ``css-scroll-snap`` looks for ``scroll-snap-*`` (Mailpit's regex has a typo,
``roll-snap``, and never matches).
"""

from __future__ import annotations

import re

# Element tests: slug -> selector list (Mailpit's, including its oddities: ``submit``,
# ``checkbox`` and ``radio`` are element names, so they match only such custom tags).
HTML_TESTS: dict[str, str] = {
    "html-body": "body",  # special: counted when the markup has </body>
    "html-object": "object, embed, image, pdf",
    "html-link": "link",
    "html-hr": "hr",
    "html-dialog": "dialog",
    "html-srcset": "[srcset]",
    "html-picture": "picture",
    "html-svg": "svg",
    "html-progress": "progress",
    "html-required": "[required]",
    "html-meter": "meter",
    "html-audio": "audio",
    "html-form": "form",
    "html-input-submit": "submit",
    "html-button-reset": 'button[type="reset"]',
    "html-button-submit": 'submit, button[type="submit"]',
    "html-base": "base",
    "html-input-checkbox": "checkbox",
    "html-input-hidden": '[type="hidden"]',
    "html-input-radio": "radio",
    "html-input-text": 'input[type="text"]',
    "html-video": "video",
    "html-semantics": "article, aside, details, figcaption, figure, footer, header, main, "
    "mark, nav, section, summary, time",
    "html-select": "select",
    "html-textarea": "textarea",
    "html-anchor-links": 'a[href^="#"]',
    "html-style": "style",
    "html-image-maps": "map, img[usemap]",
}

# Image formats: matched against every <img src>.
IMAGE_TESTS: dict[str, re.Pattern[str]] = {
    slug: re.compile(pattern, re.IGNORECASE)
    for slug, pattern in {
        "image-apng": r"\.apng$",
        "image-avif": r"\.avif$",
        "image-base64": r"^data:image/",
        "image-bmp": r"\.bmp$",
        "image-gif": r"\.gif$",
        "image-hdr": r"\.hdr$",
        "image-heif": r"\.heif$",
        "image-ico": r"\.ico$",
        "image-mp4": r"\.mp4$",
        "image-ppm": r"\.ppm$",
        "image-svg": r"\.svg$",
        "image-tiff": r"\.tiff?$",
        "image-webp": r"\.webp$",
    }.items()
}

# Styling attributes (<td bgcolor=...>): +1 to the slug when any element has one.
ATTRIBUTE_TESTS: dict[str, str] = {
    "css-background-color": "bgcolor",
    "css-background": "background",
    "css-border": "border",
    "css-height": "height",
    "css-padding": "padding",
    "css-width": "width",
}


def _property(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?:^|[\s;]){name}\s*+:", re.IGNORECASE)


# Properties in style="" (after <style> rules are inlined): slug -> regex; per element.
_PLAIN_PROPERTIES = [
    "accent-color",
    "align-items",
    "aspect-ratio",
    "background-blend-mode",
    "background-clip",
    "background-color",
    "background-image",
    "background-origin",
    "background-position",
    "background-repeat",
    "background-size",
    "background",
    "block-inline-size",
    "border-image",
    "border-radius",
    "border",
    "box-shadow",
    "box-sizing",
    "caption-side",
    "clip-path",
    "column-count",
    "column-layout-properties",
    "conic-gradient",
    "direction",
    "display",
    "filter",
    "flex-direction",
    "flex-wrap",
    "float",
    "font-kerning",
    "font-weight",
    "font",
    "gap",
    "grid-template",
    "height",
    "hyphens",
    "inline-size",
    "intrinsic-size",
    "justify-content",
    "letter-spacing",
    "line-height",
    "list-style-image",
    "list-style-position",
    "list-style",
    "margin-inline-block",
    "margin-inline",
    "margin",
    "max-block-size",
    "max-height",
    "max-width",
    "min-height",
    "min-inline-size",
    "min-width",
    "mix-blend-mode",
    "modern-color",
    "object-fit",
    "object-position",
    "opacity",
    "outline-offset",
    "outline",
    "overflow-wrap",
    "overflow",
    "padding-inline-block",
    "padding",
    "position",
    "radial-gradient",
    "tab-size",
    "table-layout",
    "text-align-last",
    "text-align",
    "text-decoration-color",
    "text-decoration-thickness",
    "text-decoration",
    "text-emphasis-position",
    "text-emphasis",
    "text-indent",
    "text-overflow",
    "text-shadow",
    "text-transform",
    "text-underline-offset",
    "transform",
    "variables",
    "visibility",
    "white-space",
    "width",
    "word-break",
    "writing-mode",
    "z-index",
]
INLINE_TESTS: dict[str, re.Pattern[str]] = {
    **{f"css-{name}": _property(name) for name in _PLAIN_PROPERTIES},
    "css-border-inline-block-individual": _property("border-inline"),
    "css-display-flex": re.compile(r"(?:^|[\s;])display\s*+:\s*+flex(?:$|[\s;])", re.I),
    "css-display-grid": re.compile(r"(?:^|[\s;])display:grid", re.I),
    "css-display-none": re.compile(r"(?:^|[\s;])display:none", re.I),
    "css-important": re.compile(r"!important(?:$|[\s;])", re.I),
    "css-margin-block-start-end": _property("margin-block-(?:start|end)"),
    "css-margin-inline-start-end": _property("margin-inline-(?:start|end)"),
    "css-padding-block-start-end": _property("padding-block-(?:start|end)"),
    "css-padding-inline-start-end": _property("padding-inline-(?:start|end)"),
    "css-rgb": re.compile(r"[\s:]rgb\(", re.I),
    "css-rgba": re.compile(r"[\s:]rgba\(", re.I),
    "css-scroll-snap": _property(r"scroll-snap-[a-z]++"),
    "css-unit-calc": re.compile(r"[\s:]calc\(", re.I),
}

# Units: every hit in every style="" counts.
UNIT_TESTS: dict[str, re.Pattern[str]] = {
    "css-unit-ch": re.compile(r"\b\d++ch\b"),
    "css-unit-initial": re.compile(r":\s?initial\b"),
    "css-unit-rem": re.compile(r"\b\d++rem\b"),
    "css-unit-vh": re.compile(r"\b\d++vh\b"),
    "css-unit-vmax": re.compile(r"\b\d++vmax\b"),
    "css-unit-vmin": re.compile(r"\b\d++vmin\b"),
    "css-unit-vw": re.compile(r"\b\d++vw\b"),
}

# At-rules and pseudo-classes: every hit in the text of all <style> blocks counts.
STYLESHEET_TESTS: dict[str, re.Pattern[str]] = {
    "css-at-font-face": re.compile(r"@font-face\s+{", re.I),
    "css-at-import": re.compile(r"@import\s", re.I),
    "css-at-keyframes": re.compile(r"@keyframes\s", re.I),
    "css-at-media": re.compile(r"@media\s?\(", re.I),
    "css-at-supports": re.compile(r"@supports\s?\(", re.I),
    **{
        f"css-pseudo-class-{name}": re.compile(pattern)
        for name, pattern in {
            "active": ":active",
            "checked": ":checked",
            "first-child": ":first-child",
            "first-of-type": ":first-of-type",
            "focus": ":focus",
            "has": ":has",
            "hover": ":hover",
            "lang": r":lang\s?\(",
            "last-child": ":last-child",
            "last-of-type": ":last-of-type",
            "link": ":link",
            "not": r":not\s*+\(",
            "nth-child": r":nth-child\s*+\(",
            "nth-last-child": r":nth-last-child\s*+\(",
            "nth-last-of-type": r":nth-last-of-type\s*+\(",
            "nth-of-type": r":nth-of-type\s*+\(",
            "only-child": r":only-child\s*+\(",
            "only-of-type": r":only-of-type\s*+\(",
            "target": ":target",
            "visited": ":visited",
        }.items()
    },
    **{
        f"css-pseudo-element-{name}": re.compile(pattern)
        for name, pattern in {
            "after": ":after",
            "before": ":before",
            "first-letter": "::first-letter",
            "first-line": "::first-line",
            "marker": "::marker",
            "placeholder": "::placeholder",
        }.items()
    },
}

# Mailpit's count of tests run (shown as Total.Tests): every table above.
TEST_COUNT = (
    len(HTML_TESTS)
    + len(IMAGE_TESTS)
    + len(INLINE_TESTS)
    + len(ATTRIBUTE_TESTS)
    + len(UNIT_TESTS)
    + len(STYLESHEET_TESTS)
)
