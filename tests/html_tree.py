"""A small HTML tree for tests to read what a page says (the standard library's parser)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


def attrs_match(value: str, wanted: str) -> bool:
    """A one-word wanted value matches a word of the attribute (classes); else the whole value."""
    return wanted in value.split() if wanted and " " not in wanted else value == wanted


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self) -> list[Node]:
        """This node and every node below it, in document order."""
        found = [self]
        for child in self.children:
            if isinstance(child, Node):
                found += child.iter()
        return found

    def all(self, tag: str | None = None, **attrs: str) -> list[Node]:
        """Nodes below this one with ``tag`` and ``attrs`` (``class_`` for class)."""
        return [
            node
            for node in self.iter()[1:]
            if (tag is None or node.tag == tag)
            and all(attrs_match(node.attrs.get(k.rstrip("_"), ""), v) for k, v in attrs.items())
        ]

    def first(self, tag: str | None = None, **attrs: str) -> Node:
        found = self.all(tag, **attrs)
        assert found, f"no <{tag} {attrs}>"
        return found[0]

    def by_id(self, ident: str) -> Node:
        (node,) = self.all(id=ident)
        return node

    def links(self) -> set[str]:
        """Targets of the links, without their query (``?lang=``), with their fragment."""
        found = set()
        for a in self.all("a"):
            url = urlsplit(a.attrs.get("href", ""))
            found.add(url.path + (f"#{url.fragment}" if url.fragment else ""))
        return found


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID_TAGS:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_html(html: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root
