"""collapse_whitespace: pages lose their indentation, never their content."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from pmkb.adapters.minify import collapse_whitespace

ASCII_WS = re.compile(r"[ \t\r\f\v\n]+")
KEPT = ("pre", "textarea", "script", "code")

pieces = st.one_of(
    st.sampled_from(["<div>", "</div>", "<p class='a'>", "</p>", "<span>", "</span>", "word", "a b", "&amp;",
                     "\u00a0", "\u2028", "x\u3000y", " ", "  ", "\n", "\n\n  ", "\t", " \n \t\n", "\r\n", "\f"]),
    st.builds(lambda tag, inner: f"<{tag}>{inner}</{tag}>", st.sampled_from(KEPT),
              st.text(alphabet=" \n\tab<>/\u00a0", max_size=20)),
    st.text(max_size=8),
)
documents = st.lists(pieces, max_size=40).map("".join)


def _outside_kept(html: str) -> str:
    return re.sub(r"<(pre|textarea|script|code)\b.*?</\1\s*>", "", html, flags=re.S | re.I)


@settings(max_examples=400)
@given(documents)
def test_only_layout_whitespace_changes(html):
    out = collapse_whitespace(html)
    # the same text once every run of ASCII whitespace counts as one space
    assert ASCII_WS.sub(" ", out) == ASCII_WS.sub(" ", html)
    # preformatted elements come through byte for byte
    for m in re.finditer(r"<(pre|textarea|script|code)\b.*?</\1\s*>", html, flags=re.S | re.I):
        assert m.group() in out
    # whitespace that holds a line break stays a line break (it may end an inline script's statement)
    assert out.count("\n") <= html.count("\n")
    assert collapse_whitespace(out) == out


@given(documents)
def test_never_longer(html):
    assert len(collapse_whitespace(html)) <= len(html)


def test_a_theme_page():
    html = "<html>\n  <head>\n    <title>x</title>\n  </head>\n  <body>\n    <p>one  two</p>\n" \
           "    <pre>  keep\n    this</pre>\n  <script>\n  var a = 1\n  var b = 2\n  </script>\n</body>\n</html>\n"
    assert collapse_whitespace(html) == ("<html>\n<head>\n<title>x</title>\n</head>\n<body>\n<p>one  two</p>\n"
                                         "<pre>  keep\n    this</pre>\n<script>\n  var a = 1\n  var b = 2\n  </script>\n"
                                         "</body>\n</html>\n")


def test_no_break_spaces_are_content():
    assert collapse_whitespace("<td>\u00a0</td>\n   <td>\u00a0 x</td>") == "<td>\u00a0</td>\n<td>\u00a0 x</td>"
