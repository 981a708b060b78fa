// The `elf` fuzz target's DWARF seed (fuzz/corpus/elf/tiny-dwarf): the shapes the debugger's
// views look for in an xv6 kernel, in a few lines. Built with
//   riscv64-unknown-elf-gcc -g -O1 -mcmodel=medany -nostdlib -nostartfiles \
//     -Wl,-Ttext=0x80000000 -o fuzz/corpus/elf/tiny-dwarf fuzz/seeds/tiny-dwarf.c
enum procstate { UNUSED, USED, SLEEPING, RUNNABLE, RUNNING, ZOMBIE };
struct file { int type; int ref; char readable; char writable; unsigned off; };
struct proc {
  int pid;
  enum procstate state;
  struct proc *parent;
  unsigned long *pagetable;
  struct file *ofile[16];
  char name[16];
};
struct cpu { struct proc *proc; int noff; int intena; };
struct run { struct run *next; };
struct proc proc[4];
struct cpu cpus[8];
struct { struct file file[8]; } ftable;
struct { struct run *freelist; } kmem;
unsigned long kernel_pagetable;
int add(int a, int b) { return a + b; }
void _start(void) {
  proc[0].pid = add(1, 2);
  cpus[0].proc = &proc[0];
  for (;;) {}
}
