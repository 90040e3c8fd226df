#!/usr/bin/env python3
"""Writes nstopo(1) from its two sources of truth, so that it never drifts from them:
the commands' own help (`nstopo help CMD`) and the README's language reference, exit codes
and troubleshooting sections. Usage: manpage.py NSTOPO_BINARY README.md > nstopo.1
"""
import re
import subprocess
import sys


def roff_escape(text):
    """Text for a roff line: backslashes doubled, a leading dot or quote protected."""
    text = text.replace("\\", "\\e")
    # Non-ASCII as roff's Unicode escapes, so that any troff reads the page without preconv.
    text = "".join(c if ord(c) < 128 else "\\[u%04X]" % ord(c) for c in text)
    if text.startswith(".") or text.startswith("'"):
        text = "\\&" + text
    return text


def inline(text):
    """Markdown inline marks to roff fonts: `code` and **bold** bold, *em* italic."""
    text = roff_escape(text)
    text = re.sub(r"`([^`]+)`", lambda m: "\\fB" + m.group(1) + "\\fR", text)
    text = re.sub(r"\*\*([^*]+)\*\*", lambda m: "\\fB" + m.group(1) + "\\fR", text)
    text = re.sub(r"(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])", lambda m: "\\fI" + m.group(1) + "\\fR", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", lambda m: m.group(1), text)
    return text


def markdown(lines):
    """A README section (headings, paragraphs, lists, fenced code, tables) as roff."""
    out = []
    paragraph = []
    in_code = False

    def flush():
        if paragraph:
            out.append(".PP")
            out.append(inline(" ".join(p.strip() for p in paragraph)))
            paragraph.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            flush()
            if not in_code:
                out += [".PP", ".RS 4", ".nf"]
            else:
                out += [".fi", ".RE"]
            in_code = not in_code
        elif in_code:
            out.append(roff_escape(line) if line else "")
        elif line.startswith("#"):
            flush()
            title = line.lstrip("#").strip().replace("`", "")
            out.append(".SS " + '"' + roff_escape(title) + '"')
        elif line.startswith("|"):
            flush()
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                cells = [c.strip() for c in lines[i].strip().strip("|").split(" | ")]
                if not re.fullmatch(r"[|:\- ]+", lines[i].strip()):
                    rows.append(cells)
                i += 1
            for r in rows[1:]:
                out.append(".TP")
                out.append(inline(r[0].replace("\\|", "|")))
                out.append(inline(" ".join(r[1:]).replace("\\|", "|")))
            continue
        elif re.match(r"^\s*([-*]|\d+\.) ", line):
            flush()
            item = [re.sub(r"^\s*([-*]|\d+\.) ", "", line)]
            while i + 1 < len(lines) and lines[i + 1].startswith("  ") and not re.match(r"^\s*([-*]|\d+\.) ", lines[i + 1]):
                i += 1
                item.append(lines[i].strip())
            out.append(".IP \\(bu 2")
            out.append(inline(" ".join(item)))
        elif not line.strip():
            flush()
        else:
            paragraph.append(line)
        i += 1
    flush()
    if in_code:
        out += [".fi", ".RE"]
    return out


def section(readme, title):
    """The lines of the README section `## title`, up to the next `## `."""
    lines = readme.split("\n")
    start = lines.index("## " + title) + 1
    end = next((k for k in range(start, len(lines)) if lines[k].startswith("## ")), len(lines))
    return lines[start:end]


def helptext(binary, *args):
    return subprocess.run([binary, *args], capture_output=True, text=True, check=True).stdout


def main():
    binary, readme_path = sys.argv[1], sys.argv[2]
    readme = open(readme_path, encoding="utf-8").read()
    version = helptext(binary, "--version").strip()
    root = helptext(binary, "--help")
    commands = re.findall(r"^  (\w[\w-]*)\s{2,}", root.split("SUBCOMMANDS:")[1], re.M)
    out = [
        '.TH NSTOPO 1 "" "nstopo %s" "User Commands"' % version,
        ".SH NAME",
        "nstopo \\- network-namespace topologies: declare, build, test, draw, tear down",
        ".SH SYNOPSIS",
        ".B nstopo",
        ".I command",
        "[\\fIoptions\\fR] [\\fIarguments\\fR]",
        ".SH DESCRIPTION",
        "nstopo reads a topology file (\\fB.topo\\fR) of nodes (network namespaces), links (veth pairs),",
        "bridges, subnets and routes; builds it in the kernel through netlink; probes every pair of",
        "nodes with real sockets and holds each to what the file declares and what its model predicts;",
        "explains any pair hop by hop; draws it; and takes it down, leaving nothing behind.",
        ".SH COMMANDS",
    ]
    for c in commands:
        if c == "help":
            continue
        text = helptext(binary, "help", c)
        out.append(".SS " + c)
        out += [".nf"] + [roff_escape(l) for l in text.rstrip("\n").split("\n")] + [".fi"]
    out.append(".SH EXAMPLES")
    examples = [
        ("Check a file, build it, test every pair, take it down:",
         ["nstopo validate lab.topo", "nstopo up lab.topo", "nstopo test lab", "nstopo down lab"]),
        ("The matrix from the model alone (no root), and why one pair is blocked, in the model and the kernel:",
         ["nstopo predict lab.topo", "nstopo why lab pc1 web --port 80 --probe"]),
        ("Every failure scenario, with what each loses and gains against the base matrix; the report for a browser:",
         ["nstopo test lab --all-scenarios --json lab.json", "nstopo report lab.json -o lab.html"]),
        ("Run a command in every host of a range; take a link down and up again:",
         ["nstopo exec lab 'h[1..4]' -- ip -br addr", "nstopo link lab r1 r2 down", "nstopo link lab r1 r2 up"]),
        ("Draw it; hand it to containerlab, or to Kubernetes through clabernetes:",
         ["nstopo graph lab.topo -o lab.svg", "nstopo export lab.topo --format containerlab -o lab.clab.yml",
          "nstopo export lab.topo --for clabernetes -o lab.clab.yml"]),
    ]
    for text, commands in examples:
        out += [".PP", roff_escape(text), ".PP", ".RS 4", ".nf"] + [roff_escape(c) for c in commands] + [".fi", ".RE"]
    out += [".PP", "The example topologies are in \\fI/usr/local/share/doc/nstopo/examples\\fR (under the prefix nstopo was installed to)."]
    out.append(".SH THE LANGUAGE")
    out += markdown(section(readme, "The language"))
    out.append(".SH EXIT STATUS")
    out += markdown(section(readme, "Exit codes"))
    out.append(".SH FILES")
    out += [".TP", "\\fB/run/nstopo/\\fINAME\\fB/\\fR",
            "The state of each topology that is up: its model, its journal and its service logs."]
    out.append(".SH TROUBLESHOOTING")
    out += markdown(section(readme, "Troubleshooting"))
    out += [".SH SEE ALSO", "\\fBip\\fR(8), \\fBip-netns\\fR(8), \\fBtc\\fR(8), \\fBnft\\fR(8), \\fBdot\\fR(1)"]
    sys.stdout.write("\n".join(out) + "\n")


main()
