#!/usr/bin/env python3
"""Lists the Swift functions whose bodies are longer than the house limit (60 lines outside SQL text).

Scans every .swift file under Functions/ and Runtime/ (the shipped code and its tools; not Tests/, Fuzz/
or Benchmarks/) and measures the body of each `func`, `init`, `deinit`, `subscript`, and each property
with a body at a type's (or the file's) top level: a computed property, observers, or a closure that
initialises it (`let x = { ... }()`). A body's length is the number of lines strictly between its braces
that hold code: blank lines, comment-only lines and the lines of multi-line string literals (`\"\"\"`, the
SQL text) do not count. Nested functions and closures count in the function around them, and nested
functions are measured on their own as well.

Prints `path:line Name N` for every body over the limit and exits 1 if there is one, 0 otherwise.
Usage: scripts/function-length.py [--max N] [--all] [paths...]
  --max N   the limit (default 60)
  --all     print every body's length, not only those over the limit (still exits 1 over the limit)
  paths     files or directories to scan instead of Functions/ and Runtime/ (relative to the checkout)
"""
import os
import re
import sys

ROOTS = ("Functions", "Runtime")
FUNCTION_KEYWORDS = {"func", "init", "deinit", "subscript"}
PROPERTY_KEYWORDS = {"var", "let"}
TYPE_KEYWORDS = {"class", "struct", "enum", "extension", "protocol", "actor"}
# Keywords that end a property's declaration without it having a body (top-level code in main.swift, a
# `case` of an enum, another declaration).
ENDS_DECLARATION = {"typealias", "case", "import", "associatedtype", "operator", "precedencegroup",
                    "if", "guard", "for", "while", "switch", "do", "repeat", "defer", "return", "macro"}

# One code token: whitespace, a comment opener, a string opener (raw or not, single- or multi-line), a
# word, or one punctuation character.
TOKEN = re.compile(r"""
    (?P<newline>\n)
  | (?P<space>[ \t\r\f\v]+)
  | (?P<line_comment>//[^\n]*)
  | (?P<block_comment>/\*)
  | (?P<string>(?P<hashes>\#*)(?P<quotes>\"\"\"|\"))
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*|`[^`\n]+`)
  | (?P<number>[0-9][0-9A-Za-z_.]*)
  | (?P<punct>.)
""", re.VERBOSE | re.DOTALL)
BLOCK_COMMENT_PART = re.compile(r"/\*|\*/")


class Scanner:
    """Splits Swift source into code tokens (word, punctuation) with their lines, and records which
    lines hold code outside comments and multi-line string literals."""

    def __init__(self, text):
        self.text = text
        self.pos = 0
        self.line = 1
        self.tokens = []        # (kind, value, line); kind is "word" or "punct"
        self.code_lines = set()

    def run(self):
        self.code(mark=True, interpolation=False)
        return self.tokens, self.code_lines

    def advance_to(self, end):
        self.line += self.text.count("\n", self.pos, end)
        self.pos = end

    def code(self, mark, interpolation):
        """Scans code until the end of the text, or (in an interpolation) the `)` that closes it."""
        depth = 0
        text = self.text
        while self.pos < len(text):
            m = TOKEN.match(text, self.pos)
            kind = "string" if m.group("string") is not None else m.lastgroup
            start_line = self.line
            if kind == "newline":
                self.line += 1
                self.pos = m.end()
                continue
            if kind in ("space", "line_comment"):
                self.pos = m.end()
                continue
            if kind == "block_comment":
                self.skip_block_comment(m.end())
                continue
            if mark:
                self.code_lines.add(start_line)
            if kind == "string":
                self.pos = m.end()
                self.string(len(m.group("hashes")), m.group("quotes") == '"""', mark)
                continue
            value = m.group(0)
            self.pos = m.end()
            if kind == "number":
                continue
            if interpolation:
                if value == "(":
                    depth += 1
                elif value == ")":
                    if depth == 0:
                        return
                    depth -= 1
            self.tokens.append(("word" if kind == "word" else "punct", value, start_line))

    def skip_block_comment(self, pos):
        nesting = 1
        while nesting > 0:
            m = BLOCK_COMMENT_PART.search(self.text, pos)
            if m is None:
                pos = len(self.text)
                break
            nesting += 1 if m.group(0) == "/*" else -1
            pos = m.end()
        self.advance_to(pos)

    def string(self, hashes, multiline, mark):
        """Scans a string literal's content up to its closing delimiter, entering its interpolations.
        Lines of a multi-line literal are text, not code: only a single-line literal marks its line."""
        text = self.text
        closer = ('"""' if multiline else '"') + "#" * hashes
        escape = "\\" + "#" * hashes
        interesting = re.compile(re.escape(closer) + "|" + re.escape(escape) + ("" if multiline else r"|\n"))
        while True:
            m = interesting.search(text, self.pos)
            if m is None:
                self.advance_to(len(text))
                return
            if m.group(0) == "\n":
                # An unterminated single-line literal: Swift would not compile it; stop at the line's end.
                self.advance_to(m.start())
                return
            if m.group(0) == closer:
                self.advance_to(m.end())
                return
            # An escape: `\(` (or `\#(` in a raw string) opens an interpolation; anything else is one character.
            self.advance_to(m.end())
            if text.startswith("(", self.pos):
                self.pos += 1
                self.code(mark=mark and not multiline, interpolation=True)
            elif self.pos < len(text):
                self.advance_to(self.pos + 1)


def measure(path, text):
    """Yields (line, name, length) for each function-like body in `text`."""
    tokens, code_lines = Scanner(text).run()
    braces = []        # one entry per open `{`: (kind, name, line, declaration line); kind: type, body, other
    parens = 0         # open `(` and `[` outside braces opened since
    paren_stack = []   # the paren depth at each open brace, restored when it closes
    pending = None     # a declaration waiting for its `{`: (kind, name, line, parens, open braces)
    previous = None

    def waiting(declaration):
        """Whether this token is at the declaration's own level (not in its parameters' closures)."""
        return declaration is not None and declaration[3] == parens and declaration[4] == len(braces)

    def names():
        return [entry[1] for entry in braces if entry[1]]

    def declared_name(index):
        """The words after a declaration keyword: `Foo.Bar` for `extension Foo.Bar`, `+` for `func +`."""
        parts = []
        i = index + 1
        while i < len(tokens):
            kind, value, _ = tokens[i]
            if kind == "word":
                parts.append(value.strip("`"))
                if i + 1 < len(tokens) and tokens[i + 1][1] == "." and i + 2 < len(tokens) and tokens[i + 2][0] == "word":
                    i += 2
                    continue
                break
            if value in "(<:{=":
                break
            parts.append(value)  # an operator's characters
            i += 1
        return ".".join(parts) if parts and all(p.isidentifier() or p.startswith("`") for p in parts) else "".join(parts)

    for index, (kind, value, line) in enumerate(tokens):
        after_dot = previous is not None and previous[1] == "."
        previous = tokens[index]
        if kind == "word" and not after_dot:
            at_top = not braces or braces[-1][0] == "type"
            if value in FUNCTION_KEYWORDS:
                name = value if value in ("init", "deinit", "subscript") else declared_name(index)
                pending = ("body", name, line, parens, len(braces))
            elif value in TYPE_KEYWORDS:
                pending = ("type", declared_name(index), line, parens, len(braces))
            elif value in PROPERTY_KEYWORDS and at_top:
                pending = ("body", declared_name(index), line, parens, len(braces))
            elif value in ENDS_DECLARATION and waiting(pending):
                pending = None
            continue
        if kind != "punct":
            continue
        if value in "([":
            parens += 1
        elif value in ")]":
            parens = max(0, parens - 1)
        elif value == "{":
            if waiting(pending):
                braces.append((pending[0], pending[1], line, pending[2]))
                pending = None
            else:
                braces.append(("other", "", line, line))
            paren_stack.append(parens)
            parens = 0
        elif value == "}":
            if waiting(pending):
                pending = None
            if not braces:
                continue
            entry_names = names()
            brace_kind, name, open_line, declaration_line = braces.pop()
            parens = paren_stack.pop()
            if brace_kind == "body":
                length = sum(1 for n in range(open_line + 1, line) if n in code_lines)
                yield declaration_line, ".".join(entry_names), length


def check_balanced(path, text):
    """Warns when a file's braces do not balance: the scanner misread a literal or a comment there."""
    tokens, _ = Scanner(text).run()
    depth = 0
    for _, value, _ in tokens:
        depth += 1 if value == "{" else -1 if value == "}" else 0
    if depth != 0:
        print(f"{path}: warning: braces do not balance ({depth:+d}); its lengths may be wrong", file=sys.stderr)


def swift_files(paths):
    for root in paths:
        if os.path.isfile(root):
            yield root
            continue
        for directory, subdirectories, files in os.walk(root):
            subdirectories.sort()
            for name in sorted(files):
                if name.endswith(".swift"):
                    yield os.path.join(directory, name)


def main(argv):
    limit = 60
    show_all = False
    paths = []
    arguments = iter(argv)
    for argument in arguments:
        if argument == "--max":
            value = next(arguments, None)
            if value is None or not value.isdigit():
                print("--max needs a whole number", file=sys.stderr)
                return 2
            limit = int(value)
        elif argument.startswith("--max="):
            value = argument.split("=", 1)[1]
            if not value.isdigit():
                print("--max needs a whole number", file=sys.stderr)
                return 2
            limit = int(value)
        elif argument == "--all":
            show_all = True
        elif argument in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        else:
            paths.append(argument)
    if not paths:
        checkout = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        os.chdir(checkout)
        paths = [root for root in ROOTS if os.path.isdir(root)]
    over = 0
    for path in swift_files(paths):
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        check_balanced(path, text)
        for line, name, length in sorted(measure(path, text)):
            if length > limit:
                over += 1
            if length > limit or show_all:
                print(f"{path}:{line} {name} {length}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
