"""Render a plain-text compilation as a WordPress-style saved page (a test fixture).

Run once from the repository root; the pages it writes are committed beside it:

    .venv/bin/python tests/data/html/make_page.py

The article sits inside the page chrome a blog engine wraps around it (cookie banner,
site header and menu, share buttons and related posts inside the content, tags, post
navigation, comments, sidebar widgets, footer, scripts and styles), written the way
WordPress writes it: Gutenberg block comments, numeric entities for typographic quotes,
``&nbsp;``, links and bold inside items, headings as h2, h3 and bold paragraphs in turn.
The text itself is the compilation's, character for character.
"""

from __future__ import annotations

import html
import re
import sys
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))

from index.parse import BULLET_RE, FULL_DATE_RE, parse_file  # noqa: E402

REAL = ROOT / "data" / "sources" / "2024-11-06-post-soviet-reaction-to-trump-win.txt"
CITATION_RE = re.compile(r"\(([A-Z][^(),]*?)(,? \d{1,2}\.\d{1,2}\.\d{2})")

# What WordPress's wptexturize and esc_html leave in the markup instead of the characters.
ENTITIES = {
    "’": "&#8217;",
    "‘": "&#8216;",
    "“": "&#8220;",
    "”": "&#8221;",
    "–": "&#8211;",
    "—": "&#8212;",
    "…": "&#8230;",
    "'": "&#039;",
    "é": "&eacute;",
    "\u00a0": "&nbsp;",
}


def wp(text: str) -> str:
    """Text as WordPress writes it into a page (same characters once a browser decodes it)."""
    out = html.escape(text, quote=False)
    for ch, ent in ENTITIES.items():
        out = out.replace(ch, ent)
    return out.replace("  ", "&nbsp; ")


def item_html(text: str, top: bool) -> str:
    """A bullet's text with the inline markup an editor adds: bold speaker, linked outlets."""
    body = wp(text)
    body = CITATION_RE.sub(
        lambda m: (
            f'(<a href="https://example.org/{m[1].lower().replace(" ", "-")}" '
            f'target="_blank" rel="noreferrer noopener">{m[1]}</a>{m[2]}'
        ),
        body,
    )
    name, sep, rest = body.partition(", ")
    if top and sep and len(name.split()) <= 3 and "<" not in name:
        body = f"<strong>{name}</strong>, {rest}"
    return body


def long_date(iso: str) -> str:
    """2024-11-08 -> November 8, 2024 (WordPress's default date format)."""
    d = date.fromisoformat(iso)
    return f"{d:%B} {d.day}, {d.year}"


def wrap(s: str, width: int = 110) -> str:
    """Long source lines wrapped at spaces, as some editors save them."""
    words, lines, cur = s.split(" "), [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}" if cur else w
    lines.append(cur)
    return "\n".join(lines)


def blocks(lines: Sequence[str]) -> Iterator[list[tuple[int, str]] | str]:
    """A compilation's lines after its date as a page shows them: each run of items as a list
    of (indent, text), a wrapped line joined to its item; each other line as its text."""
    pending: list[tuple[int, str]] = []
    for raw in lines:
        m = BULLET_RE.match(raw)
        if m:
            pending.append((len(m["indent"]), m["text"].strip()))
            continue
        if not raw.strip():
            continue
        if raw.startswith(" ") and pending:  # a wrapped line continues its item
            indent, text = pending[-1]
            pending[-1] = (indent, f"{text}\n{raw.strip()}")
            continue
        if pending:
            yield pending
            pending = []
        yield raw.strip()
    if pending:
        yield pending


def nested(items: list[tuple[int, str]]) -> Iterator[tuple[str, list[tuple[int, str]]]]:
    """(text, the items nested under it) for each top item of (indent, text) pairs: a deeper
    indent nests under the item above."""
    i = 0
    while i < len(items):
        indent, text = items[i]
        j = i + 1
        while j < len(items) and items[j][0] > indent:
            j += 1
        yield text, items[i + 1 : j]
        i = j


def render_list(items: list[tuple[int, str]], depth: int = 0) -> str:
    """Nested <ul> from (indent, text) pairs, as the block editor writes it."""
    pad = "  " * depth
    out = [f'{pad}<!-- wp:list -->\n{pad}<ul class="wp-block-list">']
    for text, under in nested(items):
        inner = f"\n{render_list(under, depth + 1)}\n{pad}" if under else ""
        out.append(
            f"{pad}<!-- wp:list-item -->\n{pad}<li>{wrap(item_html(text, depth == 0))}"
            f"{inner}</li>\n{pad}<!-- /wp:list-item -->"
        )
    out.append(f"{pad}</ul>\n{pad}<!-- /wp:list -->")
    return "\n".join(out)


def article(path: Path) -> tuple[str, str, str]:
    """(article header, entry content, title) for one compilation file."""
    parsed = parse_file(path)
    doc = parsed.document
    countries = {s.country for s in parsed.statements}
    lines = path.read_text(encoding="utf-8").split("\n")
    date_idx = next(i for i, ln in enumerate(lines) if FULL_DATE_RE.match(ln))
    header = [ln.strip() for ln in lines[:date_idx] if ln.strip()]
    blog, tagline, captions, title = header[0], header[1], header[2:-1], header[-1]
    date_line = lines[date_idx].strip()

    figure = "".join(
        '\n  <figure class="post-thumbnail wp-caption">'
        '<img src="/wp-content/uploads/2024/11/trump-win.jpg" alt="" width="1200" height="800">'
        f'<figcaption class="wp-caption-text">{wp(c)}</figcaption></figure>'
        for c in captions
    )
    head = f"""<header class="entry-header">
  <div class="blog-banner"><a class="blog-name" href="/blog/in-the-thick-of-it/">{wp(blog)}</a>
    <p class="blog-description">{wp(tagline)}</p></div>{figure}
  <h1 class="entry-title">{wp(title)}</h1>
  <div class="entry-meta">
    <span class="posted-on"><span class="screen-reader-text">Posted on</span>
      <a href="/2024/11/06/post-soviet-reaction/" rel="bookmark"><time class="entry-date published"
        datetime="{doc.published}T09:00:00-05:00">{wp(date_line)}</time><time class="updated"
        datetime="{doc.updated or doc.published}T12:30:00-05:00">{long_date(doc.updated or doc.published or "")}</time></a></span>
    <span class="byline"> by <span class="author vcard"><a class="url fn n"
      href="/author/rm-staff/">RM Staff</a></span></span>
    <span class="comments-link"><a href="#comments">3 Comments</a></span>
  </div>
</header>"""

    body: list[str] = []
    n_heading = 0
    for block in blocks(lines[date_idx + 1 :]):
        if isinstance(block, list):
            body.append(render_list(block))
            continue
        text = block
        if text in countries:
            n_heading += 1
            style = n_heading % 3
            if style == 0:
                body.append(f"<!-- wp:paragraph -->\n<p><strong>{wp(text)}</strong></p>")
            elif style == 1:
                body.append(f'<!-- wp:heading -->\n<h2 class="wp-block-heading">{wp(text)}</h2>')
            else:
                body.append(f'<h3 class="wp-block-heading" id="{text.lower()}">{wp(text)}</h3>')
        elif text == doc.author:
            body.append(f"<!-- wp:paragraph -->\n<p><em>{wp(text)}</em></p>")
        else:
            body.append(f"<!-- wp:paragraph -->\n<p>{wrap(wp(text))}</p>\n<!-- /wp:paragraph -->")
    return head, "\n\n".join(body), title


SHARE = """<div class="sharedaddy sd-sharing-enabled"><div class="robots-nocontent sd-block sd-social">
<h3 class="sd-title">Share this:</h3><div class="sd-content"><ul>
<li class="share-twitter"><a class="share-twitter sd-button" href="?share=twitter" target="_blank"><span>Twitter</span></a></li>
<li class="share-facebook"><a class="share-facebook sd-button" href="?share=facebook"><span>Facebook</span></a></li>
<li class="share-email"><a class="share-email sd-button" href="mailto:?subject=Post-Soviet%20Reaction"><span>Email</span></a></li>
<li class="share-end"></li></ul></div></div></div>
<div id="jp-relatedposts" class="jp-relatedposts"><h3 class="jp-relatedposts-headline"><em>Related</em></h3>
<ul class="jp-relatedposts-items">
<li><a href="/2024/10/30/russia-in-review/">Russia in Review, Oct. 25&#8211;Nov. 1, 2024</a> (<time datetime="2024-11-01">November 1, 2024</time>)</li>
<li><a href="/2024/11/12/ukraine-after-us-election/">Ukraine after the U.S. election: 5 views</a></li>
</ul></div>
<div class="newsletter-signup"><p>Get the Russia Matters weekly digest in your inbox.</p>
<form action="/subscribe" method="post"><input type="email" name="email" placeholder="Email">
<button type="submit">Subscribe</button></form></div>"""


def page(head: str, content: str, title: str) -> str:
    """The whole saved page around one article."""
    plain_title = html.escape(title)
    return f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{plain_title} &#8211; Russia Matters</title>
<meta property="og:title" content="{plain_title}">
<meta property="article:published_time" content="2024-11-06T14:00:00+00:00">
<meta property="article:modified_time" content="2024-11-08T17:30:00+00:00">
<link rel="stylesheet" id="twentytwentyone-style-css" href="/wp-content/themes/style.css" media="all">
<style id="global-styles-inline-css">
body {{ --wp--preset--color--black: #000000; }}
.entry-content ul li::before {{ content: "• "; }}
</style>
<script type="application/ld+json">{{"@context":"https://schema.org","@type":"BlogPosting",
"headline":"Post-Soviet Reaction to Trump\\u2019s Win","datePublished":"2024-11-06T09:00:00-05:00",
"author":{{"@type":"Person","name":"RM Staff"}}}}</script>
<script>window.dataLayer = window.dataLayer || []; function gtag(){{dataLayer.push(arguments);}}
if (document.cookie.indexOf("consent=") < 0) {{ document.write("<p>Loading…</p>"); }}</script>
</head>
<body class="post-template-default single single-post postid-1234 wp-embed-responsive">
<div id="cookie-notice" role="dialog" aria-label="Cookie notice" class="cookie-notice-container">
  <p>We use cookies to make this site work and to understand how it is used.
  See our <a href="/privacy/">privacy policy</a>.</p>
  <button id="cn-accept-cookie" type="button">Accept</button>
  <button id="cn-refuse-cookie" type="button">Refuse</button>
</div>
<div id="page" class="site">
<a class="skip-link screen-reader-text" href="#content">Skip to content</a>
<header id="masthead" class="site-header" role="banner">
  <div class="site-branding">
    <p class="site-title"><a href="/" rel="home">Russia Matters</a></p>
    <p class="site-description">Harvard Kennedy School&#8217;s Belfer Center project</p>
  </div>
  <nav id="site-navigation" class="primary-navigation" aria-label="Primary menu">
    <ul id="primary-menu-list" class="menu-wrapper">
      <li class="menu-item"><a href="/analysis/">Analysis</a></li>
      <li class="menu-item menu-item-has-children"><a href="/blog/">Blogs</a>
        <ul class="sub-menu">
          <li class="menu-item"><a href="/blog/in-the-thick-of-it/">In the Thick of It</a></li>
          <li class="menu-item"><a href="/blog/russia-in-review/">Russia in Review</a></li>
        </ul></li>
      <li class="menu-item"><a href="/about/">About</a></li>
    </ul>
  </nav>
</header>
<div id="content" class="site-content">
<main id="main" class="site-main">
<nav aria-label="Breadcrumbs" class="breadcrumbs"><ol>
  <li><a href="/">Home</a></li><li><a href="/blog/">Blogs</a></li>
  <li><a href="/blog/in-the-thick-of-it/">In the Thick of It</a></li></ol></nav>
<article id="post-1234" class="post-1234 post type-post status-publish format-standard has-post-thumbnail hentry category-blog">
{head}
<div class="entry-content">
{content}

{SHARE}
</div><!-- .entry-content -->
<footer class="entry-footer default-max-width">
  <span class="cat-links">Categorized as <a href="/category/blog/" rel="category tag">Blog</a></span>
  <span class="tags-links">Tagged <a href="/tag/russia/" rel="tag">Russia</a>, <a href="/tag/ukraine/" rel="tag">Ukraine</a></span>
</footer>
</article>
<nav class="navigation post-navigation" aria-label="Posts">
  <h2 class="screen-reader-text">Post navigation</h2>
  <div class="nav-links"><div class="nav-previous"><a href="/2024/11/05/" rel="prev">Previous post: Election Day in Moscow</a></div>
  <div class="nav-next"><a href="/2024/11/08/" rel="next">Next post: Russia in Review, Nov. 1&#8211;8, 2024</a></div></div>
</nav>
<div id="comments" class="comments-area">
  <h2 class="comments-title">3 thoughts on &#8220;{plain_title}&#8221;</h2>
  <ol class="comment-list">
    <li id="comment-11" class="comment even thread-even depth-1">
      <article class="comment-body"><footer class="comment-meta"><b class="fn">Ivan</b>
        <time datetime="2024-11-07T08:01:00+00:00">November 7, 2024 at 8:01 am</time></footer>
        <div class="comment-content"><p>Peskov said &#8220;no plans&#8221; and then he congratulated him anyway (TASS, 11.07.24)</p></div>
      <ol class="children"><li class="comment"><article class="comment-body">
        <div class="comment-content"><p>Source? (RFE/RL, 11.07.24)</p></div></article></li></ol>
      </article></li>
    <li id="comment-12" class="comment odd"><article class="comment-body">
      <div class="comment-content"><p>Great compilation, thank you.</p></div></article></li>
  </ol>
  <div id="respond" class="comment-respond"><h3 id="reply-title" class="comment-reply-title">Leave a comment</h3>
    <form action="/wp-comments-post.php" method="post" id="commentform" class="comment-form">
      <p class="comment-form-comment"><label for="comment">Comment</label>
      <textarea id="comment" name="comment" cols="45" rows="8"></textarea></p>
      <p class="form-submit"><input name="submit" type="submit" id="submit" class="submit" value="Post Comment"></p>
    </form></div>
</div>
</main>
<aside id="secondary" class="widget-area" role="complementary">
  <section id="recent-posts-2" class="widget widget_recent_entries"><h2 class="widget-title">Recent Posts</h2>
    <ul><li><a href="/2024/11/08/">Russia in Review, Nov. 1&#8211;8, 2024</a></li>
    <li><a href="/2024/11/05/">Election Day in Moscow</a></li></ul></section>
  <section id="text-3" class="widget widget_text"><h2 class="widget-title">About</h2>
    <div class="textwidget"><p>Russia Matters is a project of the Belfer Center.</p></div></section>
</aside>
</div><!-- #content -->
<footer id="colophon" class="site-footer" role="contentinfo">
  <div class="site-info"><p>&copy; 2024 Russia Matters. All rights reserved.</p>
  <ul class="footer-menu"><li><a href="/privacy/">Privacy</a></li><li><a href="/contact/">Contact</a></li></ul></div>
</footer>
</div><!-- #page -->
<noscript><img height="1" width="1" style="display:none" src="https://example.org/pixel.gif" alt=""></noscript>
<script src="/wp-includes/js/jquery/jquery.min.js" id="jquery-core-js"></script>
<script>document.querySelectorAll(".share-twitter").forEach(function (a) {{ a.rel = "noopener"; }});</script>
</body>
</html>
<!-- Dynamic page generated in 0.412 seconds. -->
<!-- Cached page generated by WP-Super-Cache on 2024-11-08 12:31:07 -->
"""


NOT_A_COMPILATION = (
    """<header class="entry-header">
  <h1 class="entry-title">Why the Kremlin Waits: Notes on Moscow&#8217;s Silence</h1>
  <div class="entry-meta"><time class="entry-date published" datetime="2024-11-07T10:00:00-05:00">November 07, 2024</time></div>
</header>""",
    """<!-- wp:paragraph -->
<p>Vladimir Putin took two days to congratulate Donald Trump. This essay asks why the Kremlin
waited, and what the delay tells us about the months ahead.</p>
<h2 class="wp-block-heading">A deliberate pause</h2>
<p>Officials in Moscow have long preferred to let others speak first. &#8220;We will judge by
deeds,&#8221; Dmitry Peskov said (TASS, 11.06.24).</p>
<h2 class="wp-block-heading">What comes next</h2>
<p>The answer depends on Kyiv as much as on Washington.</p>""",
    "Why the Kremlin Waits: Notes on Moscow’s Silence",
)


def main() -> None:
    head, content, title = article(REAL)
    (HERE / "post-soviet-reaction-to-trump-win.html").write_text(
        page(head, content, title), encoding="utf-8"
    )
    (HERE / "essay-no-compilation.html").write_text(page(*NOT_A_COMPILATION), encoding="utf-8")


if __name__ == "__main__":
    main()
