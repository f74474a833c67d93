"""The HTML extractor keeps the page's own content: no navigation, header, footer, aside, forms or
hidden text, and only the <main>/<article> when the page has one."""

from __future__ import annotations

from kalamna.adapters.extraction.extractors import extract_document, html_text

PAGE = (
    "<html><head><title>T</title><style>p{}</style></head><body>"
    "<header><a href='/'>Home</a> <a href='/shop'>Shop</a></header>"
    "<nav><ul><li>Phones</li><li>Laptops</li></ul></nav>"
    "<div role='navigation'>Breadcrumbs</div>"
    "<div>Intro text.<span hidden>secret one</span><span aria-hidden='true'>icon</span>"
    "<p style='color: red; display : none'>secret two</p><p style='visibility:hidden'>secret three</p>"
    "<p>Visible paragraph.</p></div>"
    "<aside><h3>Popular</h3><p>How do I order?</p></aside>"
    "<form><button>Subscribe</button></form>"
    "<footer>© 2026 All rights reserved</footer><script>var x = 1;</script></body></html>"
)


def test_page_furniture_and_hidden_text_are_dropped() -> None:
    assert html_text(PAGE).split() == ["Intro", "text.", "Visible", "paragraph."]


def test_the_main_element_is_the_page_when_there_is_one() -> None:
    page = (
        "<body><div class='top'>Top banner text</div><main><article><header><h1>Returns</h1></header>"
        "<p>Unopened items within 14 days.</p><footer>Updated May</footer></article></main>"
        "<div>Cookie notice</div></body>"
    )
    assert (
        extract_document("text/html", page.encode()).text
        == "# Returns\n\nUnopened items within 14 days.\n\nUpdated May"
    )


def test_unclosed_elements_inside_hidden_ones_do_not_hide_the_rest() -> None:
    page = "<body><div hidden><p>secret<li>more</div><p>Shown."
    assert html_text(page).strip() == "Shown."
