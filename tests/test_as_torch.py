"""ember.as_torch: whole PyTorch-style scripts run unmodified in subprocesses.

Each test writes a script that imports ``torch``/``torchvision`` the way real programs do and
runs it with ``python -m ember.as_torch`` (or ``install()``); the script asserts that it got
ember's module objects, including in its DataLoader workers and other child processes.
"""

import os
import subprocess
import sys
import textwrap

import pytest

TRAIN = textwrap.dedent('''
    import os
    import sys

    import torch
    from torch import nn
    import torch.nn.functional as F
    from torch.utils.data import DataLoader, Dataset
    from torch.utils.data.dataloader import default_collate
    import torchvision
    import torchvision.transforms as T
    from torchvision.utils import make_grid

    import ember


    class Line(Dataset):
        """y = 2x + 1 on 64 points; reports the worker's view of torch with each sample."""

        def __len__(self):
            return 64

        def __getitem__(self, i):
            import torch as t  # resolved inside the worker process
            x = t.tensor([i / 64.0])
            return x, 2 * x + 1, t.__name__, os.getpid()


    def main():
        ctx, epochs = sys.argv[1], int(sys.argv[2])
        assert torch is ember and nn is ember.nn and F is ember.nn.functional
        assert torchvision is ember.vision and T is ember.vision.transforms
        assert default_collate is ember.utils.data.default_collate
        torch.manual_seed(0)
        model = nn.Linear(1, 1)
        opt = torch.optim.SGD(model.parameters(), lr=0.5)
        dl = DataLoader(Line(), batch_size=16, shuffle=True, num_workers=2,
                        multiprocessing_context=None if ctx == "default" else ctx,
                        persistent_workers=True)
        first = names = pids = None
        for _ in range(epochs):
            for x, y, names, pids in dl:
                loss = F.mse_loss(model(x), y)
                first = float(loss) if first is None else first
                opt.zero_grad()
                loss.backward()
                opt.step()
        assert set(names) == {"ember"}, names
        assert os.getpid() not in set(int(p) for p in pids)
        assert tuple(make_grid(torch.zeros(2, 1, 4, 4)).shape) == (3, 8, 14)
        print("OK", first, float(loss))


    if __name__ == "__main__":
        main()
''')


def _run(args, cwd, **kw):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300, **kw)


def _script(tmp_path, text, name="prog.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def _ok(r):
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


@pytest.mark.parametrize("ctx,epochs", [
    ("default", 15), ("spawn", 2),
    pytest.param("forkserver", 2, marks=pytest.mark.slow)])
def test_training_script_with_workers(tmp_path, ctx, epochs):
    # fork (Linux's default) inherits the interpreter; spawn re-runs the script in each
    # worker, where `import torch` must find the shim on the copied sys.path.
    path = _script(tmp_path, TRAIN, "train.py")
    out = _ok(_run(["-m", "ember.as_torch", str(path), ctx, str(epochs)], tmp_path))
    _, first, last = out.split()
    assert float(last) < float(first)
    if epochs >= 15:
        assert float(last) < 1e-3


def test_install_call_and_identity(tmp_path):
    path = _script(tmp_path, '''
        import ember.as_torch
        ember.as_torch.install()
        import ember
        import torch, torch.nn, torch.linalg, torch.optim.lr_scheduler
        import torch.backends.cudnn
        import torchvision.models
        from torch.nn import functional as F
        assert torch is ember and torch.nn is ember.nn
        assert torch.optim.lr_scheduler is ember.optim.lr_scheduler
        assert torchvision.models is ember.vision.models
        assert torch.backends.cudnn is ember.backends.cudnn
        # ember's modules keep their own identity (spec, name)
        assert F.__name__ == "ember.nn.functional" == F.__spec__.name
        assert ember.as_torch.is_installed()
        print("OK")
    ''')
    assert _ok(_run([str(path)], tmp_path)).strip() == "OK"


def test_argv_exit_code_and_main_name(tmp_path):
    path = _script(tmp_path, '''
        import sys
        import torch
        assert __name__ == "__main__"
        assert sys.argv[1:] == ["--epochs", "3"], sys.argv
        sys.exit(7 if torch.__name__ == "ember" else 1)
    ''')
    r = _run(["-m", "ember.as_torch", str(path), "--epochs", "3"], tmp_path)
    assert r.returncode == 7, r.stderr


def test_module_form(tmp_path):
    pkg = tmp_path / "mypkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "run.py").write_text("import sys, torch.nn\nprint(torch.nn.__name__, sys.argv[1:])\n")
    out = _ok(_run(["-m", "ember.as_torch", "-m", "mypkg.run", "x"], tmp_path))
    assert out.strip() == "ember.nn ['x']"


def test_usage_and_missing_file(tmp_path):
    r = _run(["-m", "ember.as_torch"], tmp_path)
    assert r.returncode == 2 and "usage" in r.stderr
    r = _run(["-m", "ember.as_torch", "nope.py"], tmp_path)
    assert r.returncode == 2 and "nope.py" in r.stderr


def test_missing_module_is_named(tmp_path):
    path = _script(tmp_path, '''
        import torch
        try:
            import torch.no_such_module
        except ModuleNotFoundError as e:
            print(e.name)
            print(e)
        import torch.no_such_module.deeper
    ''')
    r = _run(["-m", "ember.as_torch", str(path)], tmp_path)
    assert r.returncode == 1
    name, msg = r.stdout.splitlines()
    assert name == "ember.no_such_module"
    assert "'torch.no_such_module'" in msg and "'ember.no_such_module'" in msg
    assert "ModuleNotFoundError" in r.stderr and "ember.no_such_module" in r.stderr


def test_subprocess_and_multiprocessing_children(tmp_path):
    path = _script(tmp_path, '''
        import subprocess
        import sys

        import torch
        import torch.multiprocessing as mp


        def child(i, q):
            import torch
            q.put((i, torch.__name__, torch.nn.Linear.__module__))


        if __name__ == "__main__":
            out = subprocess.run([sys.executable, "-c", "import torch, torchvision; "
                                  "print(torch.__name__, torchvision.__name__)"],
                                 capture_output=True, text=True, check=True).stdout.split()
            assert out == ["ember", "ember.vision"], out
            ctx = mp.get_context("spawn")
            q = ctx.SimpleQueue()
            mp.spawn(child, args=(q,), nprocs=2)
            got = sorted(q.get() for _ in range(2))
            assert got == [(0, "ember", "ember.nn.modules.linear"),
                           (1, "ember", "ember.nn.modules.linear")], got
            print("OK")
    ''')
    assert _ok(_run(["-m", "ember.as_torch", str(path)], tmp_path)).strip() == "OK"


def test_install_refuses_after_real_torch(tmp_path):
    pytest.importorskip("torch")
    path = _script(tmp_path, '''
        import torch
        import ember.as_torch
        try:
            ember.as_torch.install()
        except RuntimeError as e:
            print("refused:", "already imported" in str(e))
        else:
            print("installed")
    ''')
    assert _ok(_run([str(path)], tmp_path)).strip() == "refused: True"


def test_children_false_leaves_environment(tmp_path):
    path = _script(tmp_path, '''
        import os
        import ember.as_torch
        ember.as_torch.install(children=False)
        import torch
        print(torch.__name__, ember.as_torch.SHIM_DIR in os.environ.get("PYTHONPATH", ""))
    ''')
    assert _ok(_run([str(path)], tmp_path)).strip() == "ember False"
