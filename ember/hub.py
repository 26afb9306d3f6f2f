"""``ember.hub``: checkpoints and models fetched by URL or repository, cached on disk.

PyTorch's ``torch.hub`` API: :func:`load_state_dict_from_url` downloads a checkpoint once
into ``<hub dir>/checkpoints`` and loads it with :func:`ember.load` (checkpoints written by
``torch.save`` load as well); :func:`load` imports a repository's ``hubconf.py`` (from a
local directory, or a GitHub repository cached under the hub directory) and calls one of its
entry points.

The hub directory is, in order: what :func:`set_dir` set, ``$EMBER_HOME/hub``,
``$TORCH_HOME/hub``, ``$XDG_CACHE_HOME/ember/hub``, ``~/.cache/ember/hub``. Any URL scheme
``urllib`` opens works, ``file://`` included; a URL that cannot be reached raises
``urllib.error.URLError`` naming the URL and the file to place by hand instead.

A repository's ``hubconf.py`` usually does ``import torch``: run the program under
``python -m ember.as_torch`` (or call ``ember.as_torch.install()`` first) so that it gets
ember.

Example::

    >>> import ember, os, tempfile
    >>> d = tempfile.mkdtemp()
    >>> ember.save({"w": ember.ones(2)}, os.path.join(d, "w.pt"))
    >>> sd = ember.hub.load_state_dict_from_url("file://" + os.path.join(d, "w.pt"),
    ...                                         model_dir=os.path.join(d, "cache"),
    ...                                         progress=False)
    >>> sd["w"].tolist()
    [1.0, 1.0]
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zipfile

__all__ = ["download_url_to_file", "get_dir", "help", "list", "load",
           "load_state_dict_from_url", "set_dir"]

_hub_dir = None
_HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")
_TRUSTED_OWNERS = ("facebookresearch", "facebookinc", "facebook", "nvidia", "pytorch")
_CHUNK = 1 << 16


def _home() -> str:
    for var in ("EMBER_HOME", "TORCH_HOME"):
        if os.getenv(var):
            return os.path.expanduser(os.environ[var])
    cache = os.getenv("XDG_CACHE_HOME", os.path.join("~", ".cache"))
    return os.path.expanduser(os.path.join(cache, "ember"))


def get_dir() -> str:
    """The hub cache directory (see the module docstring for how it is chosen).

    Returns:
        str: the directory (it need not exist yet).

    Example::

        >>> ember.hub.get_dir().endswith("hub")
        True
    """
    if _hub_dir is not None:
        return _hub_dir
    return os.path.join(_home(), "hub")


def set_dir(d) -> None:
    """Use ``d`` as the hub cache directory from now on.

    Args:
        d: a path (``~`` is expanded).

    Returns:
        None.

    Example::

        >>> old = ember.hub.get_dir()
        >>> ember.hub.set_dir("/tmp/ember_hub")
        >>> ember.hub.get_dir()
        '/tmp/ember_hub'
        >>> ember.hub.set_dir(old)
    """
    global _hub_dir
    _hub_dir = os.path.expanduser(os.fspath(d))


def _open(url: str, dst: str):
    req = urllib.request.Request(url, headers={"User-Agent": "ember.hub"})
    try:
        return urllib.request.urlopen(req, timeout=30)  # noqa: S310 (any scheme is wanted)
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", None) or e
        raise urllib.error.URLError(
            f"ember.hub: cannot download {url!r}: {reason}. Without network access, fetch "
            f"the file elsewhere and place it at {dst!r} (or use a file:// URL)") from e


def download_url_to_file(url: str, dst: str, hash_prefix: str | None = None,
                         progress: bool = True) -> None:
    """Download ``url`` to the file ``dst``, checking a SHA-256 prefix if given.

    The data goes to a temporary file next to ``dst`` that is renamed into place only when
    complete and verified, so an interrupted download never leaves a truncated ``dst``.

    Args:
        url: the URL (``http(s)://``, ``file://``, ...).
        dst: the destination path.
        hash_prefix: if given, the SHA-256 hex digest must start with it (RuntimeError
            otherwise).
        progress: show a progress bar on stderr (tqdm when installed, else a percentage).

    Returns:
        None.

    Example::

        >>> import os, tempfile
        >>> d = tempfile.mkdtemp()
        >>> open(os.path.join(d, "a.bin"), "wb").write(b"abc")
        3
        >>> ember.hub.download_url_to_file("file://" + os.path.join(d, "a.bin"),
        ...                                os.path.join(d, "b.bin"), progress=False)
        >>> open(os.path.join(d, "b.bin"), "rb").read()
        b'abc'
    """
    dst = os.path.abspath(os.path.expanduser(os.fspath(dst)))
    resp = _open(url, dst)
    total = resp.headers.get("Content-Length") if getattr(resp, "headers", None) else None
    total = int(total) if total else None
    dst_dir = os.path.dirname(dst)
    os.makedirs(dst_dir, exist_ok=True)
    sha = hashlib.sha256() if hash_prefix is not None else None
    tmp = tempfile.NamedTemporaryFile(delete=False, dir=dst_dir, prefix=".partial-")
    bar = _Progress(total, url) if progress else None
    try:
        with resp, tmp:
            while True:
                chunk = resp.read(_CHUNK)
                if not chunk:
                    break
                tmp.write(chunk)
                if sha is not None:
                    sha.update(chunk)
                if bar is not None:
                    bar.update(len(chunk))
        if bar is not None:
            bar.close()
        if sha is not None:
            digest = sha.hexdigest()
            if not digest.startswith(hash_prefix):
                raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got '
                                   f'"{digest}") for {url}')
        shutil.move(tmp.name, dst)
    finally:
        if os.path.exists(tmp.name):
            os.remove(tmp.name)


class _Progress:
    """A download progress bar: tqdm when installed, else a percentage line on stderr."""

    def __init__(self, total, url):
        self.total, self.done, self.last = total, 0, -1
        try:
            from tqdm import tqdm
        except ImportError:
            self.bar = None
            sys.stderr.write(f"Downloading: {url}\n")
        else:
            self.bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                            desc=os.path.basename(urllib.parse.urlparse(url).path))

    def update(self, n):
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        elif self.total:
            pct = 100 * self.done // self.total
            if pct != self.last:
                self.last = pct
                sys.stderr.write(f"\r{pct:3d}%")

    def close(self):
        if self.bar is not None:
            self.bar.close()
        elif self.total:
            sys.stderr.write("\n")


def load_state_dict_from_url(url: str, model_dir: str | None = None, map_location=None,
                             progress: bool = True, check_hash: bool = False,
                             file_name: str | None = None, weights_only: bool = False):
    """Load a checkpoint from ``url``, downloading it into the cache the first time.

    Args:
        url: where the checkpoint is (``file://`` works offline).
        model_dir: cache directory (default ``<hub dir>/checkpoints``).
        map_location: passed to :func:`ember.load`.
        progress: show a download progress bar.
        check_hash: verify that the SHA-256 digest starts with the hex digits after the
            last ``-`` of the file name (``resnet18-f37072fd.pth``), as PyTorch's zoo names.
        file_name: the cached file's name (default: the URL's last path component).
        weights_only: passed to :func:`ember.load` (PyTorch's default here is False: only
            load checkpoints you trust, or pass True for the restricted unpickler).

    Returns:
        The loaded object, usually a state dict.

    Example::

        >>> import os, tempfile
        >>> d = tempfile.mkdtemp()
        >>> ember.save({"b": ember.zeros(1)}, os.path.join(d, "b.pt"))
        >>> sorted(ember.hub.load_state_dict_from_url("file://" + d + "/b.pt", model_dir=d + "/c",
        ...                                           progress=False, weights_only=True))
        ['b']
    """
    from ember.serialization import load as _load

    if os.getenv("TORCH_MODEL_ZOO"):
        warnings.warn("TORCH_MODEL_ZOO is deprecated, please use env TORCH_HOME instead",
                      stacklevel=2)
    if model_dir is None:
        model_dir = os.path.join(get_dir(), "checkpoints")
    os.makedirs(model_dir, exist_ok=True)
    filename = file_name or os.path.basename(urllib.parse.urlparse(url).path)
    if not filename:
        raise ValueError(f"load_state_dict_from_url: cannot name the cached file for {url!r}; "
                         "pass file_name=")
    cached = os.path.join(model_dir, filename)
    if not os.path.exists(cached):
        hash_prefix = None
        if check_hash:
            m = _HASH_REGEX.search(filename)
            hash_prefix = m.group(1) if m else None
        download_url_to_file(url, cached, hash_prefix, progress=progress)
    if _is_legacy_zip(cached):
        cached = _extract_legacy_zip(cached, model_dir)
    return _load(cached, map_location=map_location, weights_only=weights_only)


def _is_legacy_zip(path: str) -> bool:
    # Old zoo files were a zip holding one legacy-format checkpoint (no data.pkl inside).
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
    return len(names) == 1 and not names[0].endswith("/") and "/" not in names[0]


def _extract_legacy_zip(path: str, model_dir: str) -> str:
    with zipfile.ZipFile(path) as z:
        (name,) = z.namelist()
        target = os.path.join(model_dir, name)
        if not os.path.exists(target):
            z.extract(name, model_dir)
    return target


# ------------------------------------------------------------------ hub.load and friends
def _parse_repo(github: str):
    ref = None
    if ":" in github:
        github, ref = github.split(":", 1)
    if github.count("/") != 1:
        raise ValueError(f'Invalid input: repo_or_dir ("{github}") should be of the form '
                         '"repo_owner/repo_name[:ref]" or a local directory with source="local"')
    owner, name = github.split("/")
    return owner, name, ref


def _check_trust(owner: str, name: str, trust_repo, hub_dir: str) -> None:
    trusted_file = os.path.join(hub_dir, "trusted_list")
    key = f"{owner}_{name}"
    trusted = set()
    if os.path.exists(trusted_file):
        with open(trusted_file) as f:
            trusted = {line.strip() for line in f}
    if trust_repo is None:
        warnings.warn("You are about to download and run code from an untrusted repository; "
                      "pass trust_repo=True/False/'check' (trust_repo=None is deprecated)",
                      stacklevel=3)
        return
    if trust_repo is True or key in trusted or owner in _TRUSTED_OWNERS:
        if key not in trusted:
            os.makedirs(hub_dir, exist_ok=True)
            with open(trusted_file, "a") as f:
                f.write(key + "\n")
        return
    answer = input(f"The repository {owner}/{name} does not belong to the list of trusted "
                   "repositories and as such cannot be downloaded. Do you trust this "
                   "repository and wish to add it to the trusted list of repositories (y/N)?")
    if answer.lower() not in ("y", "yes"):
        raise Exception("Untrusted repository.")
    os.makedirs(hub_dir, exist_ok=True)
    with open(trusted_file, "a") as f:
        f.write(key + "\n")


def _github_dir(github: str, force_reload: bool, trust_repo, verbose: bool) -> str:
    hub_dir = get_dir()
    owner, name, ref = _parse_repo(github)
    refs = [ref] if ref else ["main", "master"]
    if not force_reload:
        for r in refs:
            d = os.path.join(hub_dir, f"{owner}_{name}_{r.replace('/', '_')}")
            if os.path.isdir(d):
                _check_trust(owner, name, trust_repo, hub_dir)
                if verbose:
                    sys.stderr.write(f"Using cache found in {d}\n")
                return d
    _check_trust(owner, name, trust_repo, hub_dir)
    r = refs[0]
    d = os.path.join(hub_dir, f"{owner}_{name}_{r.replace('/', '_')}")
    url = f"https://github.com/{owner}/{name}/zipball/{r}"
    archive = d + ".zip"
    if verbose:
        sys.stderr.write(f"Downloading: {url!r} to {archive}\n")
    download_url_to_file(url, archive, progress=False)
    try:
        with zipfile.ZipFile(archive) as z:
            top = z.namelist()[0].split("/")[0]
            tmpdir = tempfile.mkdtemp(dir=hub_dir)
            z.extractall(tmpdir)
        shutil.rmtree(d, ignore_errors=True)
        shutil.move(os.path.join(tmpdir, top), d)
        shutil.rmtree(tmpdir, ignore_errors=True)
    finally:
        os.remove(archive)
    return d


def _import_hubconf(repo_dir: str):
    path = os.path.join(repo_dir, "hubconf.py")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"ember.hub: no hubconf.py in {repo_dir!r}")
    sys.path.insert(0, repo_dir)
    try:
        spec = importlib.util.spec_from_file_location("hubconf", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(repo_dir)
    missing = [p for p in getattr(module, "dependencies", [])
               if importlib.util.find_spec(p) is None]
    if missing:
        raise RuntimeError(f"Missing dependencies: {', '.join(missing)}")
    return module


def _entry(module, model: str):
    if not isinstance(model, str):
        raise ValueError("Invalid input: model should be a string of function name")
    fn = getattr(module, model, None)
    if fn is None or not callable(fn):
        raise RuntimeError(f"Cannot find callable {model} in hubconf")
    return fn


def _repo_dir(repo_or_dir, source, force_reload, trust_repo, verbose):
    source = source.lower()
    if source not in ("github", "local"):
        raise ValueError(f'Unknown source: "{source}". Allowed values: "github" | "local".')
    if source == "local":
        return os.fspath(repo_or_dir)
    return _github_dir(repo_or_dir, force_reload, trust_repo, verbose)


def load(repo_or_dir, model, *args, source="github", trust_repo="check", force_reload=False,
         verbose=True, skip_validation=False, **kwargs):  # noqa: ARG001 - ember makes no GitHub API call to validate (see load's docstring)
    """Build a model from a repository's ``hubconf.py`` entry point.

    Args:
        repo_or_dir: ``"owner/name[:ref]"`` (``source="github"``: used from the hub cache
            when present, else downloaded) or a directory (``source="local"``).
        model: the entry point's name in ``hubconf.py``.
        *args, **kwargs: passed to the entry point.
        source: "github" or "local".
        trust_repo: True, False, "check" or None, as PyTorch (GitHub only): untrusted
            repositories ask on stdin before running.
        force_reload: download again even when cached.
        verbose: report cache use on stderr.
        skip_validation: accepted; ember checks no GitHub API (it needs no token).

    Returns:
        What the entry point returns.

    Example::

        >>> import os, tempfile
        >>> d = tempfile.mkdtemp()
        >>> _ = open(os.path.join(d, "hubconf.py"), "w").write(
        ...     "def double(x=1):\\n    return 2 * x\\n")
        >>> ember.hub.load(d, "double", 21, source="local")
        42
    """
    repo_dir = _repo_dir(repo_or_dir, source, force_reload, trust_repo, verbose)
    return _entry(_import_hubconf(repo_dir), model)(*args, **kwargs)


def list(github, force_reload=False, skip_validation=False, trust_repo="check",  # noqa: A001, ARG001 - ember makes no GitHub API call to validate (see load's docstring)
         verbose=True):
    """Names of the entry points in a GitHub repository's ``hubconf.py``.

    Args:
        github: ``"owner/name[:ref]"``, or a local directory (then no download is tried).
        force_reload, skip_validation, trust_repo, verbose: as :func:`load`.

    Returns:
        list of str.

    Example::

        >>> import os, tempfile
        >>> d = tempfile.mkdtemp()
        >>> _ = open(os.path.join(d, "hubconf.py"), "w").write("def net():\\n    pass\\n")
        >>> ember.hub.list(d)
        ['net']
    """
    source = "local" if os.path.isdir(os.fspath(github)) else "github"
    module = _import_hubconf(_repo_dir(github, source, force_reload, trust_repo, verbose))
    return [n for n in dir(module) if callable(getattr(module, n)) and not n.startswith("_")]


def help(github, model, force_reload=False, skip_validation=False,  # noqa: A001, ARG001 - ember makes no GitHub API call to validate (see load's docstring)
         trust_repo="check"):
    """The docstring of one entry point of a repository's ``hubconf.py``.

    Args:
        github: ``"owner/name[:ref]"`` or a local directory.
        model: the entry point's name.
        force_reload, skip_validation, trust_repo: as :func:`load`.

    Returns:
        The entry point's docstring.

    Example::

        >>> import os, tempfile
        >>> d = tempfile.mkdtemp()
        >>> _ = open(os.path.join(d, "hubconf.py"), "w").write(
        ...     "def net():\\n    '''A net.'''\\n")
        >>> ember.hub.help(d, "net")
        'A net.'
    """
    source = "local" if os.path.isdir(os.fspath(github)) else "github"
    module = _import_hubconf(_repo_dir(github, source, force_reload, trust_repo, True))
    return _entry(module, model).__doc__
