# lit configuration for the mpc test suite.
import os
import shutil
import subprocess

import lit.formats

config.name = "mpc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".test", ".c"]
config.excludes = ["Inputs", "include", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "fuzz", "unit-tests.c", "runtime-tests.c", "kernel-tests.c", "trainer-tests.c",
                   "mpcrt-inspect.c", "gemm-tests.c", "fake-model.c", "make_runner_inputs.py", "numpy_interop.py", "check_examples.py",
                   "conformance.py", "make_models.py", "make_shift_task.py", "make_bad_models.py", "check_torch_models.py", "compare_losses.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.mpc_obj_root, "test")

# Tools: the project's own first, then LLVM's FileCheck, not, split-file.
path = [config.mpc_tools_dir, config.mpc_test_bin_dir, config.llvm_tools_dir]
config.environment["PATH"] = os.pathsep.join(path + [config.environment.get("PATH", "")])
config.substitutions.append(("%mpc_src_root", config.mpc_src_root))
config.substitutions.append(("%python", "/usr/bin/python3"))

# Optional inputs: NumPy for the file-format cross-checks, the real data set.
if subprocess.run(["/usr/bin/python3", "-c", "import numpy"], capture_output=True).returncode == 0:
    config.available_features.add("numpy")
if os.path.isdir("/usr/share/datasets/fashion-mnist"):
    config.available_features.add("fashion-mnist")
# Python's onnx module (python3-onnx: tests that write ONNX models), and ONNX's node
# conformance tests (libonnx-testdata), which need it to be read.
if subprocess.run(["/usr/bin/python3", "-c", "import onnx"], capture_output=True).returncode == 0:
    config.available_features.add("onnx")
    if os.path.isdir("/usr/share/libonnx-testdata/data/node"):
        config.available_features.add("onnx-testdata")

# Tests that need a GPU say `REQUIRES: cuda-device` and skip cleanly without one.
if shutil.which("nvidia-smi"):
    try:
        if subprocess.run(["nvidia-smi", "-L"], capture_output=True, timeout=20).returncode == 0:
            config.available_features.add("cuda-device")
    except (OSError, subprocess.SubprocessError):
        pass
