"""Count the error contexts of a valgrind memcheck log whose stack passes through
fastconv's compiled modules: python tools/valgrind_contexts.py LOG (exit 1 if any).

CPython built without valgrind support reports errors of its own (reads of memory the
getrandom syscall filled, the dynamic loader's strncmp): those are counted apart."""
import re
import sys

FASTCONV_FRAME = re.compile(r"_conv\.cpython|_pool\.cpython|_openmp_helpers\.cpython|\bfc_\w+")
ERROR_KIND = re.compile(r"^==\d+== (Invalid|Conditional|Use of uninitialised|Syscall param|"
                        r"Mismatched|Source and destination|Argument)", re.M)


def main(path):
    text = open(path).read()
    blocks = [b for b in re.split(r"\n==\d+== \n", text) if ERROR_KIND.search(b)]
    ours = [b for b in blocks if FASTCONV_FRAME.search(b)]
    for block in ours:
        print(block)
    print(f"error contexts through fastconv: {len(ours)}; elsewhere (CPython, libc): "
          f"{len(blocks) - len(ours)}")
    return 1 if ours else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
