# lit configuration for the mpc test suite.
import os
import shutil
import subprocess

import lit.formats

config.name = "mpc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".test", ".c"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "fuzz", "unit-tests.c"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.mpc_obj_root, "test")

# Tools: the project's own first, then LLVM's FileCheck, not, split-file.
path = [config.mpc_tools_dir, config.mpc_test_bin_dir, config.llvm_tools_dir]
config.environment["PATH"] = os.pathsep.join(path + [config.environment.get("PATH", "")])
config.substitutions.append(("%mpc_src_root", config.mpc_src_root))
config.substitutions.append(("%python", "/usr/bin/python3"))

# Tests that need a GPU say `REQUIRES: cuda-device` and skip cleanly without one.
if shutil.which("nvidia-smi"):
    try:
        if subprocess.run(["nvidia-smi", "-L"], capture_output=True, timeout=20).returncode == 0:
            config.available_features.add("cuda-device")
    except (OSError, subprocess.SubprocessError):
        pass
