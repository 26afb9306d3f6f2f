"""The documentation runs: every ```python block in docs/*.md and README.md is executed.

Blocks of one page run in order in one namespace, as a reader pasting them into one Python
session would, in a temporary working directory. A ```output block right after a python
block is what that block prints, compared exactly (trailing spaces aside). A block whose
first lines hold ``# docs-test: skip <reason>`` is not run; ``# docs-test: ember-only
<reason>`` keeps a block out of the cross-check that runs getting-started.md under PyTorch.

Also checked: relative links and anchors between the pages, the install commands against
the README, the migration guide's claims that need PyTorch to compare with, and (when pdoc
is installed) the API reference build on a few modules. Runtime: about 6 s (2 s without
PyTorch or pdoc).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ember

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md")) + [ROOT / "README.md"]
MARKER = re.compile(r"^\s*#\s*docs-test:\s*(skip|ember-only)\b(.*)$")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)")


@dataclasses.dataclass
class Block:
    """One fenced code block: its language tag, text and first code line (1-based)."""

    lang: str
    code: str
    line: int
    output: str | None = None  # the ```output block that follows a python block
    skip: str | None = None  # reason, when marked ``# docs-test: skip``
    ember_only: str | None = None  # reason, when marked ``# docs-test: ember-only``


def extract_blocks(text: str) -> list[Block]:
    """Fenced blocks of a Markdown text, with output blocks attached to their python block.

    Raises ValueError for an unclosed fence, a marker without a reason, or an output block
    that does not follow a python block.
    """
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    prev_end = -2  # index of the closing fence of the previous block
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, lang = m.group(1), m.group(2), m.group(3).lower()
        start = i + 1
        j = start
        while j < len(lines) and not lines[j].strip().startswith(fence):
            j += 1
        if j == len(lines):
            raise ValueError(f"line {i + 1}: unclosed code fence")
        body = "\n".join(ln[len(indent):] if ln.startswith(indent) else ln
                         for ln in lines[start:j])
        if lang == "output":
            between = lines[prev_end + 1:i]
            if not blocks or blocks[-1].lang != "python" or any(s.strip() for s in between):
                raise ValueError(f"line {i + 1}: an output block must follow a python block")
            blocks[-1].output = body
        else:
            block = Block(lang, body + "\n", start + 1)
            if lang == "python":
                for ln in body.splitlines()[:3]:
                    mm = MARKER.match(ln)
                    if mm:
                        reason = mm.group(2).strip(" -:—()")
                        if not reason:
                            raise ValueError(f"line {start + 1}: '# docs-test: {mm.group(1)}' "
                                             "needs a reason")
                        setattr(block, mm.group(1).replace("-", "_"), reason)
            blocks.append(block)
        prev_end = j
        i = j + 1
    return blocks


def _normalise(out: str) -> str:
    return "\n".join(ln.rstrip() for ln in out.strip("\n").splitlines())


def run_page(path: Path, *, as_pytorch: bool = False) -> int:
    """Execute the python blocks of one page in order; returns how many ran.

    ``as_pytorch`` runs them against PyTorch instead (``ember`` renamed ``torch``), checks
    no output (random streams differ) and skips blocks marked ember-only.
    """
    ns: dict = {"__name__": "__docs__"}
    ran = 0
    for b in extract_blocks(path.read_text()):
        if b.lang != "python" or b.skip or (as_pytorch and b.ember_only):
            continue
        code = re.sub(r"\bember\b", "torch", b.code) if as_pytorch else b.code
        # Pad so that tracebacks show the line number inside the .md file.
        compiled = compile("\n" * (b.line - 1) + code, str(path), "exec")
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            exec(compiled, ns)
        ran += 1
        if b.output is not None and not as_pytorch:
            assert _normalise(buf.getvalue()) == _normalise(b.output), (
                f"{path.name}:{b.line}: printed output differs from the ```output block\n"
                f"--- printed:\n{buf.getvalue()}--- documented:\n{b.output}")
    return ran


@pytest.fixture
def clean_state(tmp_path, monkeypatch):
    """Run in a temp dir and restore the global state a page may change."""
    monkeypatch.chdir(tmp_path)
    dtype, grad, rng = ember.get_default_dtype(), ember.is_grad_enabled(), ember.get_rng_state()
    yield tmp_path
    ember.set_default_dtype(dtype)
    ember.set_grad_enabled(grad)
    ember.set_rng_state(rng)


# ------------------------------------------------------------------ the extractor itself
SAMPLE = """\
# Title

```python
x = 1
print(x + 1)
```

```output
2
```

```python
# docs-test: skip needs a GPU
y = 2
```

```bash
echo hi
```

```python
# docs-test: ember-only: uses ember.serialization.save_training_state
z = 3
```
"""


def test_extract_blocks_pairs_output_and_reads_markers():
    blocks = extract_blocks(SAMPLE)
    assert [b.lang for b in blocks] == ["python", "python", "bash", "python"]
    assert blocks[0].code == "x = 1\nprint(x + 1)\n" and blocks[0].line == 4
    assert blocks[0].output == "2"
    assert blocks[1].skip == "needs a GPU" and blocks[1].output is None
    assert blocks[2].code == "echo hi\n"
    assert blocks[3].ember_only == "uses ember.serialization.save_training_state"
    assert blocks[3].skip is None


def test_run_page_skips_marked_blocks(tmp_path, clean_state):
    page = tmp_path / "p.md"
    page.write_text(SAMPLE.replace("y = 2", "raise AssertionError('skipped block ran')"))
    assert run_page(page) == 2  # the first and the ember-only block
    assert run_page(page, as_pytorch=True) == 1


@pytest.mark.parametrize("bad, msg", [
    ("```python\nx = 1\n", "unclosed"),
    ("```python\n# docs-test: skip\nx = 1\n```\n", "needs a reason"),
    ("text\n\n```output\n2\n```\n", "must follow a python block"),
    ("```python\nx = 1\n```\nsome prose\n```output\n1\n```\n", "must follow a python block"),
])
def test_extract_blocks_rejects_malformed_pages(bad, msg):
    with pytest.raises(ValueError, match=msg):
        extract_blocks(bad)


def test_run_page_reports_output_mismatch(tmp_path, clean_state):
    page = tmp_path / "p.md"
    page.write_text("```python\nprint(3)\n```\n\n```output\n4\n```\n")
    with pytest.raises(AssertionError, match=r"p.md:2: printed output differs"):
        run_page(page)


def test_run_page_traceback_points_into_the_page(tmp_path, clean_state):
    page = tmp_path / "p.md"
    page.write_text("intro\n\n```python\nx = 1\nraise KeyError('boom')\n```\n")
    with pytest.raises(KeyError) as info:
        run_page(page)
    frame = info.traceback[-1]
    assert Path(frame.path).name == "p.md" and frame.lineno + 1 == 5


# ------------------------------------------------------------------ the pages
def test_pages_exist_and_have_code():
    names = {p.name for p in PAGES}
    assert {"index.md", "getting-started.md", "migration.md", "README.md"} <= names
    for name in ("getting-started.md", "migration.md"):
        blocks = extract_blocks((DOCS / name).read_text())
        assert sum(b.lang == "python" and not b.skip for b in blocks) >= 5, name
        assert any(b.output for b in blocks), name


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_code_blocks_run(page, clean_state):
    blocks = extract_blocks(page.read_text())  # also validates markers and output blocks
    n = run_page(page)
    assert n == sum(b.lang == "python" and not b.skip for b in blocks)


def test_getting_started_is_plain_pytorch(clean_state):
    """The same page, run against PyTorch: the code uses nothing ember-specific."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # PyTorch's thread pool crawls on a busy 2-core machine
    try:
        assert run_page(DOCS / "getting-started.md", as_pytorch=True) >= 8
    finally:
        torch.set_num_threads(threads)


def test_install_commands_match_readme():
    readme = (ROOT / "README.md").read_text()
    commands = [ln.strip() for b in extract_blocks((DOCS / "getting-started.md").read_text())
                if b.lang == "bash" for ln in b.code.splitlines() if "pip install" in ln]
    assert commands, "getting-started.md shows no install command"
    for c in commands:
        assert c in readme, f"getting-started.md's {c!r} is not the README's command"


def _prose(text: str) -> str:
    """The Markdown text without its fenced code blocks."""
    out, fence = [], None
    for ln in text.splitlines():
        m = FENCE.match(ln)
        if fence is None and m:
            fence = m.group(2)
        elif fence is not None and ln.strip().startswith(fence):
            fence = None
        elif fence is None:
            out.append(ln)
    return "\n".join(out)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to '-'."""
    s = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return s.replace(" ", "-")


LINK = re.compile(r"\]\(([^)\s]+)\)")


def broken_links(page: Path) -> list[str]:
    """Relative links (and #anchors into .md files) of a page that lead nowhere."""
    bad = []
    for target in LINK.findall(_prose(page.read_text())):
        if re.match(r"[a-z]+:", target) or target.startswith("api/"):
            continue  # an external URL, or the generated API reference (not committed)
        file, _, anchor = target.partition("#")
        dest = (page.parent / file).resolve() if file else page
        if not dest.exists():
            bad.append(target)
        elif anchor and dest.suffix == ".md":
            headings = re.findall(r"^#+\s+(.*)$", _prose(dest.read_text()), re.M)
            if anchor not in {_slug(h) for h in headings}:
                bad.append(target)
    return bad


def test_broken_links_finds_missing_files_and_anchors(tmp_path):
    (tmp_path / "a.md").write_text("# Some Title\n\n## Random numbers\n")
    page = tmp_path / "p.md"
    page.write_text("[ok](a.md) [ok](a.md#random-numbers) [x](b.md) [y](a.md#nope)\n"
                    "[web](https://example.org) [self](#local)\n\n## Local\n"
                    "```python\n[not a link](missing.md)\n```\n")
    assert broken_links(page) == ["b.md", "a.md#nope"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_and_anchors_resolve(page):
    assert broken_links(page) == []


def test_index_links_every_page():
    index = (DOCS / "index.md").read_text()
    for page in DOCS.glob("*.md"):
        if page.name != "index.md":
            assert f"({page.name}" in index, f"index.md does not link {page.name}"


# ------------------------------------------------------------------ migration-guide claims
# The guide's own blocks show ember's side; these compare with PyTorch where it is needed.
def test_claim_rng_streams_differ_from_pytorch():
    torch = pytest.importorskip("torch")
    ember.manual_seed(0)
    torch.manual_seed(0)
    a, b = ember.randn(5).numpy(), torch.randn(5).numpy()
    assert a.shape == b.shape and not np.allclose(a, b)
    ember.manual_seed(0)
    assert np.array_equal(ember.randn(5).numpy(), a)  # reproducible within ember


def test_claim_checkpoints_load_both_ways(tmp_path):
    torch = pytest.importorskip("torch")
    t = torch.nn.Linear(3, 2)
    torch.save(t.state_dict(), tmp_path / "t.pt")
    e = ember.nn.Linear(3, 2)
    e.load_state_dict(ember.load(tmp_path / "t.pt"))
    np.testing.assert_array_equal(e.weight.detach().numpy(), t.weight.detach().numpy())
    ember.save(e.state_dict(), tmp_path / "e.pt")
    back = torch.load(tmp_path / "e.pt", weights_only=True)
    assert torch.equal(back["bias"], t.bias.detach())
    # An Adam state saved by ember resumes in PyTorch (same keys and layout).
    opt = ember.optim.Adam(e.parameters(), lr=0.1)
    e(ember.ones(2, 3)).sum().backward()
    opt.step()
    ember.save(opt.state_dict(), tmp_path / "opt.pt")
    t_opt = torch.optim.Adam(t.parameters(), lr=0.1)
    t_opt.load_state_dict(torch.load(tmp_path / "opt.pt", weights_only=True))
    assert t_opt.state_dict()["state"][0]["step"].item() == 1
    np.testing.assert_allclose(t_opt.state_dict()["state"][0]["exp_avg"].numpy(),
                               opt.state_dict()["state"][0]["exp_avg"].numpy())
    # PyTorch's legacy (pre-1.6) format is read, never written.
    torch.save(t.state_dict(), tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    assert list(ember.load(tmp_path / "legacy.pt")) == ["weight", "bias"]
    with pytest.raises(NotImplementedError):
        ember.save({}, tmp_path / "x.pt", _use_new_zipfile_serialization=False)


def test_claim_in_place_through_another_view_matches_pytorch():
    """'in-place ops on views are differentiated as in PyTorch', including through a view
    taken before another view changed the memory (its history is regenerated)."""
    torch = pytest.importorskip("torch")
    got = {}
    for lib in (ember, torch):
        x = lib.ones(4, requires_grad=True)
        base = x * 1
        older = base[:2]
        base[1:3].mul_(3)
        (older * lib.tensor([1.0, 2.0])).sum().backward()
        got[lib.__name__] = (older.detach().numpy().copy(), x.grad.numpy().copy())
    np.testing.assert_array_equal(got["ember"][0], got["torch"][0])
    np.testing.assert_array_equal(got["ember"][1], got["torch"][1])
    np.testing.assert_array_equal(got["ember"][1], [1, 6, 0, 0])


# ------------------------------------------------------------------ the API reference
PUBLIC_MODULES = ["ember", "ember.autograd", "ember.autograd.functional", "ember.nn",
                  "ember.nn.functional", "ember.nn.init", "ember.nn.utils", "ember.nn.utils.rnn",
                  "ember.optim", "ember.optim.lr_scheduler", "ember.utils.data",
                  "ember.multiprocessing", "ember.serialization", "ember.linalg", "ember.fft",
                  "ember.distributions", "ember.random", "ember.testing"]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_public_module_has_summary_docstring(name):
    """The API reference's module pages open with the module's one-line summary."""
    import importlib

    doc = (importlib.import_module(name).__doc__ or "").strip()
    assert doc and len(doc.splitlines()[0]) > 10, f"{name} has no summary docstring"


def test_api_reference_builds(tmp_path):
    """docs/build_api.py renders the top-level page and two packages (about 3 s)."""
    pytest.importorskip("pdoc")
    out = tmp_path / "api"
    # '!ember\.' drops the submodules walked from 'ember'; the two named after it stay.
    r = subprocess.run([sys.executable, str(DOCS / "build_api.py"), "-o", str(out), "ember",
                        r"!ember\.", "ember.optim", "ember.serialization"],
                       capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    top = (out / "ember.html").read_text()
    # Re-exported op functions and the Tensor class are on the top-level page.
    for anchor in ('id="tensor"', 'id="Tensor"', 'id="Tensor.backward"', 'id="manual_seed"',
                   'id="matmul"', 'id="no_grad"'):
        assert anchor in top, anchor
    assert 'id="Adam"' in (out / "ember" / "optim.html").read_text()
    ser = (out / "ember" / "serialization.html").read_text()
    assert 'id="save"' in ser and "weights_only" in ser
    assert (out / "index.html").exists()


def test_api_reference_module_list():
    """The full build walks every public module and no private one (no rendering: ~1 s)."""
    pytest.importorskip("pdoc")
    import importlib.util

    import pdoc.extract

    spec = importlib.util.spec_from_file_location("build_api", DOCS / "build_api.py")
    build_api = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_api)
    names = pdoc.extract.walk_specs(build_api.PUBLIC_MODULES + [build_api.PRIVATE])
    assert set(PUBLIC_MODULES) <= set(names), set(PUBLIC_MODULES) - set(names)
    assert not [n for n in names if any(part.startswith("_") for part in n.split("."))]
