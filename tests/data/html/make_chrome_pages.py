"""Render a plain-text compilation as two saved blog pages whose article carries the chrome
real themes put inside it (a test fixture for ``index.ingest``: only the article is kept).

Run once from the repository root; the pages it writes are committed beside it:

    .venv/bin/python tests/data/html/make_chrome_pages.py

* ``drupal-…html``: Drupal 10 markup (Olivero-like): skip link, site header and menu,
  breadcrumb, the node's byline and submitted line, an image field with its caption and
  photo credit, the body field, a tags field, node links, a comment section with a form,
  an AddToAny share block, a newsletter block, related content and a footer, most of it
  inside ``<article class="node">``. The author's bio is a plain paragraph right after the
  last section's list, as editors paste it.
* ``wordpress-…html``: WordPress block markup: entry header with the posted-on and byline,
  a "By …" paragraph and a figure with its caption inside the content, an author box
  plugin (no class a converter could know) right after the last section, the
  "Originally published on …" line, a Tags line, share bar, related posts and a newsletter
  form inside the content, categories and tags in the entry footer, comments below.

The compilation's own text is unchanged; the chrome words are chosen to be found by tests.
"""

from __future__ import annotations

import html
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(HERE))
from make_page import blocks, nested  # noqa: E402  (page blocks, nested list items)

from index.parse import FULL_DATE_RE, parse_file  # noqa: E402

SOURCE = ROOT / "tests" / "data" / "sources" / "2025-03-14-baltic-reaction-to-summit.txt"
DRUPAL = HERE / "drupal-baltic-reaction-to-summit.html"
WORDPRESS = HERE / "wordpress-baltic-reaction-to-summit.html"


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def items_html(items: list[tuple[int, str]]) -> str:
    """Nested <ul> from (indent, text) pairs; a deeper indent nests under the item above."""
    out = ["<ul>"]
    for text, under in nested(items):
        inner = items_html(under) if under else ""
        out.append(f"<li>{'<br>'.join(esc(t) for t in text.split(chr(10)))}{inner}</li>")
    out.append("</ul>")
    return "\n".join(out)


def parts(path: Path) -> dict[str, object]:
    """The compilation cut into what a page shows: header lines, title, date, the body
    (intro, headings, lists, paragraphs) and the closing lines (bio, publication line)."""
    doc = parse_file(path).document
    countries = {s.country for s in parse_file(path).statements}
    lines = path.read_text(encoding="utf-8").replace("\r\n", "\n").split("\n")
    date_idx = next(i for i, ln in enumerate(lines) if FULL_DATE_RE.match(ln))
    header = [ln.strip() for ln in lines[:date_idx] if ln.strip()]
    shown: list[str] = []
    closing: list[str] = []
    for block in blocks(lines[date_idx + 1 :]):
        if isinstance(block, list):
            shown.append(items_html(block))
            continue
        text = block
        if text == doc.author or text.startswith("Originally published"):
            closing.append(text)
        elif text in countries:
            shown.append(f"<h2>{esc(text)}</h2>")
        else:
            shown.append(f"<p>{esc(text)}</p>")
    return {
        "blog": header[0],
        "tagline": header[1],
        "caption": header[2],
        "title": header[-1],
        "date": lines[date_idx].strip(),
        "published": doc.published,
        "updated": doc.updated,
        "body": "\n".join(shown),
        "bio": closing[0],
        "originally": closing[1],
    }


def drupal(p: dict[str, object]) -> str:
    title = esc(str(p["title"]))
    return f"""<!DOCTYPE html>
<html lang="en" dir="ltr">
<head>
<meta charset="utf-8">
<title>{title} | The Long View</title>
<script>window.drupalSettings = {{"path": {{"currentPath": "node/42"}}}};</script>
<style>.visually-hidden {{ position: absolute !important; }}</style>
</head>
<body class="path-node page-node-type-article">
<a href="#main-content" class="visually-hidden focusable skip-link">Skip to main content</a>
<div class="dialog-off-canvas-main-canvas" data-off-canvas-main-canvas>
<header class="site-header" role="banner">
  <div class="site-branding"><a href="/" rel="home">The Long View Network</a></div>
  <nav role="navigation" aria-labelledby="primary-menu" class="primary-nav">
    <h2 id="primary-menu" class="visually-hidden">Main navigation</h2>
    <ul class="menu"><li class="menu__item"><a href="/">Home</a></li>
    <li class="menu__item"><a href="/regions">Regions menu</a></li></ul>
  </nav>
</header>
<main role="main">
<a id="main-content" tabindex="-1"></a>
<div class="region region--breadcrumb">
  <nav class="breadcrumb" aria-labelledby="system-breadcrumb"><ol>
  <li><a href="/">Home</a></li><li><a href="/blog">Blog crumbs</a></li></ol></nav>
</div>
<div class="region region--content">
<article data-history-node-id="42" role="article" class="node node--type-article node--promoted node--view-mode-full">
  <div class="node__top">
    <p class="field field--name-field-blog">{esc(str(p["blog"]))}</p>
    <p class="field field--name-field-tagline">{esc(str(p["tagline"]))}</p>
  </div>
  <h1 class="page-title"><span class="field field--name-title">{title}</span></h1>
  <div class="node__meta">
    <span class="field field--name-uid">Written by <a href="/user/7">Kadri Lumiste (byline)</a></span>
    <div class="node__submitted">Submitted on <time datetime="2025-03-14T09:00:00Z">Fri, 03/14/2025 - 09:00</time></div>
  </div>
  <div class="field field--name-field-date"><time datetime="{p["published"]}T09:00:00Z">{esc(str(p["date"]))}</time></div>
  <div class="node__content">
    <div class="field field--name-field-image field--type-image">
      <img src="/sites/default/files/2025-03/narva.jpg" alt="Delegates in Narva" width="1200" height="800">
      <div class="field field--name-field-image-caption">{esc(str(p["caption"]))}</div>
      <div class="field field--name-field-photo-credit">Photo credit: Mart Kask</div>
    </div>
    <div class="clearfix text-formatted field field--name-body field--type-text-with-summary field__item">
{p["body"]}
<p>{esc(str(p["bio"]))}</p>
<p><em>{esc(str(p["originally"]))}</em></p>
    </div>
    <div class="field field--name-field-tags field--type-entity-reference">
      <div class="field__label">Tags</div>
      <div class="field__items"><div class="field__item"><a href="/taxonomy/term/3">Baltic tag</a></div>
      <div class="field__item"><a href="/taxonomy/term/9">Narva tag</a></div></div>
    </div>
    <div class="block block-addtoany"><span class="a2a_kit addtoany_list">
      <a class="a2a_button_twitter" href="#">Share on X</a><a class="a2a_button_email" href="#">Email this</a></span></div>
  </div>
  <div class="node__links"><ul class="links inline"><li><a href="/user/login">Log in to post comments</a></li></ul></div>
  <section class="field field--name-comment comment-section">
    <h2 class="comments__title">Comments</h2>
    <article class="comment js-comment"><footer class="comment__meta"><p>Reader 1 — 03/15/2025</p></footer>
      <div class="comment__content"><p>Great summary of the Narva comments.</p>
      <ul><li>Reply to this comment</li></ul></div></article>
    <form class="comment-form" action="/comment/reply/42"><label>Your comment</label><textarea></textarea></form>
  </section>
  <section class="block block-related-content">
    <h2>Related articles</h2>
    <ul><li><a href="/node/40">Related: the Riga summit, one year on</a></li>
    <li><a href="/node/41">Related: transit corridors explained</a></li></ul>
  </section>
  <div class="block block-simplenews newsletter-block">
    <h2>Weekly newsletter</h2><p>Get The Long View newsletter every Friday.</p>
  </div>
  <footer class="node__footer"><p>Node footer: all rights reserved by the publisher.</p></footer>
</article>
</div>
</main>
<footer class="site-footer" role="contentinfo"><p>Site footer © 2025 The Long View</p></footer>
</div>
<script src="/core/misc/drupal.js"></script>
</body>
</html>
"""


def wordpress(p: dict[str, object]) -> str:
    title = esc(str(p["title"]))
    updated = str(p["updated"] or p["published"])
    return f"""<!DOCTYPE html>
<html lang="en-US">
<head><meta charset="UTF-8"><title>{title} &#8211; The Long View</title>
<meta property="article:published_time" content="{p["published"]}T09:00:00+00:00">
<script>var wpData = {{"ajaxurl": "/wp-admin/admin-ajax.php"}};</script></head>
<body class="post-template-default single single-post postid-123">
<div id="page" class="site">
<a class="skip-link screen-reader-text" href="#primary">Skip to content</a>
<header id="masthead" class="site-header"><p class="site-title"><a href="/">The Long View Site</a></p>
<nav id="site-navigation" class="main-navigation"><ul id="primary-menu" class="menu">
<li><a href="/about/">About menu</a></li><li><a href="/archive/">Archive menu</a></li></ul></nav></header>
<div id="content" class="site-content"><main id="primary" class="site-main">
<article id="post-123" class="post-123 post type-post status-publish format-standard has-post-thumbnail hentry category-baltics tag-narva">
<header class="entry-header">
  <div class="blog-banner"><a class="blog-name" href="/blog/">{esc(str(p["blog"]))}</a>
  <p class="blog-description">{esc(str(p["tagline"]))}</p></div>
  <h1 class="entry-title">{title}</h1>
  <div class="entry-meta"><span class="posted-on">Posted on <a href="/2025/03/14/narva/" rel="bookmark"><time class="entry-date published" datetime="{p["published"]}T09:00:00+00:00">{esc(str(p["date"]))}</time><time class="updated" datetime="{updated}T12:00:00+00:00">March 15, 2025</time></a></span>
  <span class="byline"> by <span class="author vcard"><a class="url fn n" href="/author/kadri/">Kadri Lumiste (byline)</a></span></span></div>
</header>
<div class="entry-content">
<!-- wp:paragraph {{"fontSize":"small"}} -->
<p class="has-small-font-size">By Kadri Lumiste, The Long View staff</p>
<!-- /wp:paragraph -->
<!-- wp:image -->
<figure class="wp-block-image size-large"><img src="/wp-content/uploads/2025/03/narva.jpg" alt=""><figcaption class="wp-element-caption">{esc(str(p["caption"]))}</figcaption></figure>
<!-- /wp:image -->
<p>(AP Photo/Mart Kask)</p>
{p["body"]}
<div class="saboxplugin-wrap"><div class="saboxplugin-gravatar"><img src="/avatar.png" alt="Kadri Lumiste"></div>
<div class="saboxplugin-authorname"><a href="/author/kadri/">Kadri Lumiste</a></div>
<div class="saboxplugin-desc"><div><p>{esc(str(p["bio"]))}</p></div></div>
<div class="saboxplugin-web"><a href="https://kadri.example">kadri.example</a></div></div>
<!-- wp:paragraph -->
<p><em>{esc(str(p["originally"]))}</em></p>
<!-- /wp:paragraph -->
<p>Tags: Baltics, Narva, transit</p>
<div class="sharedaddy sd-sharing-enabled"><h3 class="sd-title">Share this:</h3>
<ul><li class="share-twitter"><a href="?share=twitter">Twitter share</a></li><li class="share-facebook"><a href="?share=facebook">Facebook share</a></li></ul></div>
<div id="jp-relatedposts" class="jp-relatedposts"><h3 class="jp-relatedposts-headline"><em>Related</em></h3>
<ul><li><a href="/2025/01/10/riga/">Related post: Riga in review</a></li></ul></div>
<div class="mc4wp-form newsletter-signup"><p>Sign up for The Long View weekly digest.</p>
<form><input type="email" placeholder="Email"><button>Subscribe</button></form></div>
</div>
<footer class="entry-footer"><span class="cat-links">Posted in <a href="/category/baltics/" rel="category tag">Baltics category</a></span>
<span class="tags-links">Tagged <a href="/tag/narva/" rel="tag">Narva tag link</a></span></footer>
</article>
<nav class="navigation post-navigation"><div class="nav-links"><a href="/prev/" rel="prev">Previous post</a></div></nav>
<div id="comments" class="comments-area"><h2 class="comments-title">2 thoughts on &#8220;{title}&#8221;</h2>
<ol class="comment-list"><li class="comment"><p>Comment text from a reader.</p></li></ol>
<div id="respond" class="comment-respond"><h3>Leave a Reply</h3></div></div>
</main>
<aside id="secondary" class="widget-area"><section class="widget"><h2>Recent Posts widget</h2><ul><li>Older post</li></ul></section></aside>
</div>
<footer id="colophon" class="site-footer"><div class="site-info">Proudly powered by WordPress</div></footer>
</div>
</body>
</html>
"""


def main() -> None:
    p = parts(SOURCE)
    DRUPAL.write_text(drupal(p), encoding="utf-8")
    WORDPRESS.write_text(wordpress(p), encoding="utf-8")


if __name__ == "__main__":
    main()
