"""Executes a notebook headless with nbclient (Debian python3-nbclient + python3-ipykernel) and
prints PASS:/FAIL: lines: it ran to the end, and no cell has an error output.

usage: run_notebook.py NOTEBOOK OUT_DIR   (OUT_DIR receives the executed copy; exit 1 on failure)"""
import os
import sys
import time


def main():
    notebook, out_dir = sys.argv[1], sys.argv[2]
    name = os.path.basename(notebook)
    try:
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError
    except ImportError as e:
        print(f"FAIL: {name}: nbclient/nbformat not importable ({e}); run scripts/install-deps.sh")
        return 1
    os.makedirs(out_dir, exist_ok=True)
    nb = nbformat.read(notebook, as_version=4)
    # the notebook writes its results under VB_NOTEBOOK_OUT; it runs from its own folder, as in Jupyter
    os.environ["VB_NOTEBOOK_OUT"] = out_dir
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # ipykernel's debugger note on stderr
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": os.path.dirname(os.path.abspath(notebook))}})
    start = time.monotonic()
    failed = None
    try:
        client.execute()
    except CellExecutionError as e:
        failed = str(e).splitlines()[-1] if str(e) else "a cell raised"
    except Exception as e:  # the kernel died or would not start
        failed = f"{type(e).__name__}: {e}"
    executed = os.path.join(out_dir, name)
    nbformat.write(nb, executed)
    errors = [(i, o.get("ename"), o.get("evalue")) for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
              for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    ran = sum(1 for c in code_cells if c.get("execution_count"))
    ok = failed is None and not errors and ran == len(code_cells)
    detail = (f"{ran}/{len(code_cells)} code cells ran in {time.monotonic() - start:.0f} s"
              + (f"; error cells {errors}" if errors else "") + (f"; {failed}" if failed else "")
              + f"; executed copy {executed}")
    print(("PASS: " if ok else "FAIL: ") + f"{name} executes headless with no error cell: {detail}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
