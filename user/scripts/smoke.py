#!/usr/bin/env python3
"""Smoke test of the Rust user programs on a real xv6 kernel under QEMU.

    smoke.py [--kernel K] [--lab] [--usertests] [--elfs DIR]

Builds a disk image with mkfs (README plus every program in user/src/bin, stripped), boots
the kernel (MIT's C kernel by default, which proves ABI compatibility), runs shell command
lines and checks each one's exact output. --lab adds the syscall-lab programs (trace,
sysinfotest), which need a kernel with system calls 22 and 23; --usertests adds
`usertests -q` (many minutes). Exit status 0 when every check passes.

Expects the programs built (`cd user && cargo build --release`); runs mkfs with cargo.
"""
import argparse, os, re, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
USER = os.path.dirname(HERE)
ROOT = os.path.dirname(USER)
sys.path.insert(0, HERE)
from qemu import MIT_KERNEL, Xv6  # noqa: E402


def exact(want):
    return lambda got: got == want


def matches(pattern):
    return lambda got: re.fullmatch(pattern, got, re.S) is not None


README_SIZE = os.path.getsize(os.path.join(ROOT, "README.md"))

# ls pads names to DIRSIZ (14) columns, then a space.
CHECKS = [
    ("echo hello world", exact("hello world\n")),
    ("echo abc > f; cat f", exact("abc\n")),
    ("cat < f", exact("abc\n")),
    ("(echo ab; echo xaby; echo b) > g; wc g", exact("3 3 10 g\n")),
    ("grep ^a g", exact("ab\n")),
    ("grep b$ g", exact("ab\nb\n")),
    ("grep a.y g", exact("xaby\n")),
    ("grep ^x*ab g", exact("ab\nxaby\n")),
    ("cat README | wc", matches(r"\d+ \d+ %d \n" % README_SIZE)),
    ("ls README", matches(r"README {9}2 \d+ %d\n" % README_SIZE)),
    ("mkdir d; ln f d/f2; rm f; cat d/f2", exact("abc\n")),
    ("ls d", matches(r"\. {14}1 \d+ 48\n\.\. {13}1 1 \d+\nf2 {13}2 \d+ 4\n")),
    ("cd d", exact("")),
    ("cat f2", exact("exec cat failed\n")),  # no PATH: programs are found from the cwd
    ("/cat f2", exact("abc\n")),
    ("cd /; ls", exact("cannot cd /; ls\n")),  # cd is built in only as a whole line
    ("cd ..", exact("")),
    ("find . f2", exact("./d/f2\n")),
    ("cat f", exact("cat: cannot open f\n")),
    ("(echo 1; echo 2 3) | xargs echo line", exact("line 1\nline 2 3\n")),
    ("echo a b | xargs -n 1 echo", exact("a b\n")),
    ("pingpong", matches(r"\d+: received ping\n\d+: received pong\n")),
    ("primes", exact("".join(f"prime {p}\n" for p in [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31]))),
    ("sleep 2", exact("")),
    ("forktest", exact("fork test\nfork test OK\n")),
    ("zombie", exact("")),
    ("stressfs | wc", exact("11 17 83 \n")),
    ("nosuch", exact("exec nosuch failed\n")),
    ("echo 1 2 3 4 5 6 7 8 9", exact("too many args\n")),
    ("mkdir", exact("Usage: mkdir files...\n")),
    ("kill", exact("usage: kill pid...\n")),
]

LAB_CHECKS = [
    ("trace 32 grep ab g", matches(r"(\d+: syscall read -> \d+\n|ab\n|xaby\n)+")),
    ("sysinfotest", exact("sysinfotest: start\nsysinfotest: OK\n")),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", default=MIT_KERNEL)
    ap.add_argument("--elfs", default=os.path.join(USER, "target/riscv64gc-unknown-none-elf/release"))
    ap.add_argument("--lab", action="store_true")
    ap.add_argument("--usertests", action="store_true")
    a = ap.parse_args()

    progs = sorted(f[:-3] for f in os.listdir(os.path.join(USER, "src/bin")) if f.endswith(".rs"))
    tmp = tempfile.mkdtemp(prefix="xv6smoke-")
    readme = os.path.join(tmp, "README")
    with open(os.path.join(ROOT, "README.md"), "rb") as src, open(readme, "wb") as dst:
        dst.write(src.read())
    img = os.path.join(tmp, "fs.img")
    subprocess.run(["cargo", "run", "-q", "--release", "-p", "mkfs", "--", "--strip", img, readme]
                   + [os.path.join(a.elfs, p) for p in progs], cwd=ROOT, check=True)

    checks = CHECKS + (LAB_CHECKS if a.lab else [])
    if a.usertests:
        checks.append(("usertests -q", lambda got: got.rstrip().endswith("ALL TESTS PASSED")))
    vm = Xv6(img, a.kernel, echo=False)
    failed = 0
    if vm.boot() is None:
        print("FAIL: no prompt after boot")
        vm.close()
        sys.exit(1)
    for cmd, check in checks:
        got = vm.run(cmd, 3000 if cmd.startswith("usertests") else 60)
        ok = got is not None and check(got)
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {cmd}")
        if not ok:
            print("     got: " + repr(got))
    vm.close()
    print(f"{len(checks) - failed}/{len(checks)} checks passed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
