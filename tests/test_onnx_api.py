"""ember.onnx without the onnx package: import, refused arguments, the install hint."""

import subprocess
import sys

import pytest

import ember


def test_import_without_onnx_and_clear_error_on_export():
    # A child process where `import onnx` fails: ember.onnx imports, export names the extra.
    code = (
        "import sys; sys.modules['onnx'] = None; sys.modules['onnxruntime'] = None\n"
        "import ember, ember.onnx\n"
        "assert ember.onnx.TrainingMode.EVAL == 0 and not ember.onnx.is_in_onnx_export()\n"
        "try:\n"
        "    ember.onnx.export(ember.nn.Linear(2, 2), (ember.ones(1, 2),), None)\n"
        "except ImportError as e:\n"
        "    print('IMPORT-ERROR', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "IMPORT-ERROR" in out.stdout
    assert "pip install ember[onnx]" in out.stdout


@pytest.mark.parametrize("kwargs, name", [
    ({"dynamo": True}, "dynamo"),
    ({"custom_opsets": {"x": 1}}, "custom_opsets"),
    ({"export_modules_as_functions": True}, "export_modules_as_functions"),
    ({"dynamic_shapes": {"x": {0: "b"}}}, "dynamic_shapes"),
    ({"autograd_inlining": False}, "autograd_inlining"),
    ({"report": True}, "report"),
    ({"operator_export_type": ember.onnx.OperatorExportTypes.ONNX_ATEN}, "ONNX_ATEN"),
])
def test_refused_arguments_name_themselves(kwargs, name):
    with pytest.raises(NotImplementedError, match=name):
        ember.onnx.export(ember.nn.Linear(2, 2), (ember.ones(1, 2),), None, **kwargs)


def test_public_names_match_pytorch():
    import inspect

    params = inspect.signature(ember.onnx.export).parameters
    for name in ("model", "args", "f", "kwargs", "input_names", "output_names",
                 "opset_version", "dynamo", "export_params", "keep_initializers_as_inputs",
                 "dynamic_axes", "training", "operator_export_type", "do_constant_folding",
                 "custom_opsets", "export_modules_as_functions", "autograd_inlining",
                 "verbose"):
        assert name in params
    assert params["do_constant_folding"].default is True
    assert params["export_params"].default is True
    assert params["training"].default == ember.onnx.TrainingMode.EVAL
    assert [m.name for m in ember.onnx.TrainingMode] == ["EVAL", "PRESERVE", "TRAINING"]
    assert issubclass(ember.onnx.errors.UnsupportedOperatorError, RuntimeError)


def test_select_model_mode_for_export_restores_modes():
    m = ember.nn.Sequential(ember.nn.Linear(2, 2), ember.nn.Dropout(0.5))
    m.train()
    m[1].eval()  # mixed modes come back as they were
    with ember.onnx.select_model_mode_for_export(m, ember.onnx.TrainingMode.EVAL):
        assert not m.training and not m[0].training
    assert m.training and m[0].training and not m[1].training
    with pytest.raises(TypeError, match="TrainingMode"):
        with ember.onnx.select_model_mode_for_export(m, "eval"):
            pass
