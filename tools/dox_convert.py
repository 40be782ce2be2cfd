#!/usr/bin/env python3
"""Turn reel's plain // comments into Doxygen ones, changing comments only.

    python3 tools/dox_convert.py [--dry-run] HEADER...

  * the file's opening comment block (right after #pragma once) becomes `/// \\file` + `///` lines;
  * a comment block directly above a declaration (no blank line between; a `template <...>`
    line may come first) at namespace or class scope becomes `///`;
  * a trailing `// ...` on a one-line member (a complete declaration at class or namespace scope,
    or an enumerator) becomes `///< ...`.

Left as they are, and listed for review: a block above a member that has its own trailing
comment (it heads a group of members), section comments (a block whose first line is
`// ---- ...`, with the lines that follow it in the block), comments inside function bodies
(statements, initialisers), comments above access specifiers, closing braces, #include lines
or `namespace` lines, comments followed by a blank line, trailing comments on forward
declarations and on lines that do not end a declaration. Lines already in Doxygen form
(`///`, `//!`) are never touched, so running it twice changes nothing.

It writes files in place (unless --dry-run); check with `git diff` that only comments changed.
"""
import re
import sys


def split_code_comment(line, in_block):
    """(code, comment, in_block): comment is the text after a `//` outside literals, or None.
    /* ... */ comments are dropped from code (they never occur in reel's headers, but keep the
    brace count honest if they do)."""
    code = []
    i, n = 0, len(line)
    while i < n:
        if in_block:
            j = line.find("*/", i)
            if j < 0:
                return "".join(code), None, True
            i = j + 2
            in_block = False
            continue
        c = line[i]
        if c in "\"'":
            # a string or character literal (no raw strings in the headers)
            j = i + 1
            while j < n and line[j] != c:
                j += 2 if line[j] == "\\" else 1
            code.append(line[i:j + 1])
            i = j + 1
            continue
        if line.startswith("//", i):
            return "".join(code), line[i:], False
        if line.startswith("/*", i):
            in_block = True
            i += 2
            continue
        code.append(c)
        i += 1
    return "".join(code), None, in_block


def strip_template_heads(text):
    """Drops leading `template <...>` heads (angle brackets balanced)."""
    while True:
        m = re.match(r"\s*template\s*<", text)
        if not m:
            return text
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"<": 1, ">": -1}.get(text[i], 0)
            i += 1
        text = text[i:]


def scope_kind(statement):
    """What a `{` opens, from the statement text before it."""
    s = strip_template_heads(statement).strip()
    if re.search(r"\bnamespace\b", s) or s.startswith('extern "C"'):
        return "ns"
    if re.match(r"(\[\[[^\]]*\]\]\s*)*enum\b", s):
        return "enum"
    if re.match(r"(\[\[[^\]]*\]\]\s*)*(class|struct|union)\b", s) and "=" not in s and "(" not in s.split(":")[0]:
        return "class"
    return "func"


ACCESS = re.compile(r"^(public|private|protected)\s*:$")
FORWARD_DECL = re.compile(r"^(template\s*<.*>\s*)?(class|struct|union)\s+\w+\s*;$")


def convert(text, path, review):
    lines = text.split("\n")
    n = len(lines)
    # Pass 1: for every line, the scope at its start and whether a statement starts there.
    info = []  # (code, comment, scope, stmt_start, depth_before, depth_after)
    stack = []
    pending = ""
    in_block = False
    for line in lines:
        code, comment, in_block_after = split_code_comment(line, in_block)
        in_block = in_block_after
        scope = stack[-1] if stack else "ns"
        stripped = code.strip()
        stmt_start = pending.strip() == ""
        depth_before = len(stack)
        if stripped.startswith("#"):
            info.append((code, comment, scope, stmt_start, depth_before, depth_before))
            continue
        for ch in code:
            if ch == "{":
                stack.append(scope_kind(pending) if (stack[-1] if stack else "ns") != "func" else "func")
                pending = ""
            elif ch == "}":
                if stack:
                    stack.pop()
                pending = ""
            elif ch == ";":
                pending = "" if (stack[-1] if stack else "ns") != "enum" else pending
            else:
                pending += ch
        if ACCESS.match(stripped):
            pending = ""
        if (stack[-1] if stack else "ns") == "enum" and stripped.endswith(","):
            pending = ""
        info.append((code, comment, scope, stmt_start, depth_before, len(stack)))

    out = list(lines)
    seen_code = False
    i = 0
    while i < n:
        code, comment, scope, stmt_start, d0, d1 = info[i]
        s = lines[i].strip()
        is_comment_line = comment is not None and code.strip() == ""
        if not is_comment_line:
            if code.strip() and not code.strip().startswith("#pragma"):
                seen_code = True
            # trailing comment on a code line
            if comment is not None and code.strip():
                if comment.startswith("///") or comment.startswith("//!"):
                    i += 1
                    continue
                c = code.strip()
                ok = (scope in ("ns", "class", "enum") and stmt_start and d0 == d1
                      and not c.startswith("#") and not c.startswith("}")
                      and not FORWARD_DECL.match(c) and not c.startswith("using namespace"))
                if ok and scope == "enum":
                    ok = c.endswith(",") or re.match(r"^\w+(\s*=\s*[^,]+)?$", c) is not None
                elif ok:
                    ok = c.endswith(";") or c.endswith("}")
                if ok:
                    rest = comment[2:]
                    if rest and not rest.startswith(" "):
                        rest = " " + rest
                    out[i] = lines[i][: len(lines[i]) - len(comment)] + "///<" + rest
                elif not re.match(r"^}\s*//\s*namespace\b", s):
                    review.append(f"{path}:{i + 1}: trailing comment left plain: {s}")
            i += 1
            continue
        # a block of comment-only lines
        j = i
        while j < n and info[j][1] is not None and info[j][0].strip() == "" and not lines[j].strip().startswith("///"):
            j += 1
        if j == i:  # an existing /// line
            i += 1
            continue
        block = range(i, j)
        nxt = lines[j].strip() if j < n else ""
        nxt_code = info[j][0].strip() if j < n else ""
        first = lines[i].strip()
        is_section = first.startswith("// ---")
        file_header = not seen_code and all(
            not lines[k].strip() or lines[k].strip().startswith("#pragma") for k in range(i))
        to_doc = lambda k: lines[k].replace("//", "///", 1)
        if scope == "func":
            pass  # statements inside a function body: never doc comments
        elif is_section:
            review.append(f"{path}:{i + 1}: section comment left plain ({j - i} lines): {first}")
        elif file_header:
            indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
            for k in block:
                out[k] = to_doc(k)
            out[i] = indent + "/// \\file\n" + out[i]
        elif info[j][1] is not None if j < n else False:
            # the member below has its own trailing comment: this block heads a group of members
            review.append(f"{path}:{i + 1}: comment block left plain (heads a group of members): {first}")
        elif (nxt_code and info[j][3] and not nxt_code.startswith("}") and not ACCESS.match(nxt_code)
              and not re.match(r"#\s*(include|pragma|if|endif|else|elif|undef)", nxt_code)
              and not re.match(r"namespace\b", nxt_code)):
            for k in block:
                out[k] = to_doc(k)
        else:
            why = "blank line after it" if not nxt else f"followed by: {nxt}"
            review.append(f"{path}:{i + 1}: comment block left plain ({why}): {first}")
        i = j
    return "\n".join(out)


def main(argv):
    dry = "--dry-run" in argv
    paths = [a for a in argv if a != "--dry-run"]
    review = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        new = convert(text, path, review)
        if new != text and not dry:
            with open(path, "w", encoding="utf-8") as f:
                f.write(new)
    for r in review:
        print(r)


if __name__ == "__main__":
    main(sys.argv[1:])
