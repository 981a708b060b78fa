//! The translating tier: hot guest code compiled to host code with Cranelift.
//!
//! What is translated: a *region*, the guest basic blocks reachable from a hot head pc through
//! direct branches and jumps that stay in the head's 4 KiB page (at most `MAX_INSTS`
//! instructions in `MAX_BLOCKS` blocks). Inside a region control flows natively, so a loop
//! runs without coming back to the run loop. Only plain instructions are translated: the
//! integer ALU (I and M), `lui`/`auipc`, branches and jumps, RAM loads, stores and AMOs
//! through the software TLB, fences (lowered to nothing), and `sstatus` accesses that leave
//! `SIE` clear (see `Gen::sstatus`). Everything else (other CSR accesses, traps, xRET, `wfi`,
//! fences of the TLB or of instructions, LR/SC) ends the region *before* it: the interpreter
//! executes it.
//!
//! Exactness (the one rule: with the tier on or off, every hart retires the same instructions
//! in the same order, traps and takes interrupts at the same counts):
//! - A region is entered with `left`, the cycles it may use. Each guest block first checks
//!   that its whole length fits in what is left and leaves, before its first instruction, if
//!   not. So a region never runs past the end of a budget, a quantum or an interrupt poll.
//! - A load or store whose page is not in the TLB, that is misaligned, or that would need a
//!   device, leaves *before* that instruction, with the registers as they were: the
//!   interpreter then carries it out through its slow path (TLB walk, fault, MMIO, watchpoint).
//!   A load or store first compares its page with the last one of its kind that the region
//!   looked up (the TLB, the keys and the flags cannot change while a region runs); only
//!   another page goes to the TLB. Within a guest block, a later access to the page of the
//!   first skips even that, and one through the same unchanged base register knows its
//!   distance from the first at compile time (one bounds test, or none inside the first
//!   access's own aligned bytes).
//! - A store into the region's own page leaves before it: the interpreter does it, and
//!   re-validates the page as it does after any store to its fetch page. Stores keep `Ram`'s
//!   page flags exactly as `Ram::store` does.
//! - A taken backward `beqz`/`bnez` (a possible flag poll, see spin.rs) updates the spin
//!   detector as the interpreter would (in host registers while the region runs); when the
//!   detector would hash the registers (its 64th and 128th repeat), the region leaves before
//!   the branch and the interpreter takes it. AMO swaps keep the lock-spin state likewise.
//!
//! Translations live in the decode cache's per-entry table (see icache.rs), so a write to a
//! page, `fence.i`, a snapshot restore or an overflow of the cache drops them with the decoded
//! instructions. The code itself lives in a Cranelift JIT module; when it passes
//! `CODE_LIMIT` bytes the whole module is dropped and translation starts over (QEMU flushes
//! its code buffer the same way).
//!
//! `XV6SCOPE_JIT_DISASM=1` prints the host code of every optimised region on stderr (for
//! work on the generator: `run --smp 1 --kernel` of a `bench --emit` loop shows its loop).

use super::decode::{Inst, Op, decode};
use super::mmu::TlbEntry;
use crate::ram::{PAGE_SHIFT, Ram};
use cranelift_codegen::Context;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I8, I32, I64};
use cranelift_codegen::ir::{
    AbiParam, Block, BlockArg, Endianness, InstBuilder, MemFlagsData, UserFuncName, Value,
};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{Linkage, Module, default_libcall_names};
use std::collections::HashMap;
use std::mem::offset_of;
use std::time::Instant;

/// Executions of a head pc in the interpreter before its region is translated.
pub const HOT: u32 = 64;
/// Most guest instructions and blocks in one region.
const MAX_INSTS: usize = 160;
const MAX_BLOCKS: usize = 24;
/// Code bytes kept before the whole cache is dropped.
pub const CODE_LIMIT: usize = 64 << 20;
/// Instructions a region runs before it is translated again with optimisation.
const OPTIMIZE_AT: u32 = 200_000;
/// Translations kept per head pc from different code bytes.
const MAX_VARIANTS: usize = 4;

/// What a region reads and writes, laid out for the generated code.
#[repr(C)]
pub struct JitCtx {
    /// The hart's `x` registers.
    pub x: *mut u64,
    /// RAM bytes and `Ram`'s per-page flags.
    pub ram: *mut u8,
    pub flags: *mut u8,
    /// The hart's load and store TLBs (`TLB_SIZE` entries each) and its current key.
    pub tlb_load: *const TlbEntry,
    pub tlb_store: *const TlbEntry,
    pub key_ls: u64,
    /// The RAM offset of the page the region runs in: a store there leaves the region.
    pub page_off: u64,
    /// In: cycles the region may use.
    pub left: u64,
    /// In and out: the spin detector's flag-poll state (spin.rs `FlagPoll`), kept in
    /// registers by a region that has flag polls and stored back on every exit.
    pub poll_pc: u64,
    pub poll_value: u64,
    pub poll_count: u64,
    /// In and out: the spin detector's lock-spin state (spin.rs `LockSpin`), kept the same
    /// way by a region that has atomic swaps.
    pub lock_pc: u64,
    pub lock_value: u64,
    pub lock_reads: u64,
    /// Out: the pc to continue at.
    pub pc: u64,
    /// The hart's `mstatus`, and non-zero when an `sstatus` access that leaves `SIE` clear
    /// may run here: the hart is in S-mode and no M-level interrupt is pending and enabled,
    /// so that the interpreter's check for an interrupt right after such a write would take
    /// nothing (see `Gen::sstatus`).
    pub mstatus: *mut u64,
    pub sstatus_ok: u64,
}

/// A translated region: `fn(ctx) -> instructions executed` (all retired).
pub type RegionFn = unsafe extern "C" fn(*mut JitCtx) -> u64;

#[derive(Clone, Copy)]
pub struct Region {
    pub entry: RegionFn,
    /// The virtual pc it was translated for: its code has that pc's page built in, so the
    /// same physical page executed at another address does not use it.
    pub head: u64,
    /// Length of the head block: the region needs at least this many cycles.
    pub first_len: u64,
}

/// Counters for `--stats`.
#[derive(Clone, Copy, Debug, Default)]
pub struct JitStats {
    pub translations: u64,
    /// Regions translated again, optimised, for being hot.
    pub optimized: u64,
    /// Translations found already made from the same code bytes.
    pub reused: u64,
    /// Heads that could not be translated (their first instruction is not translatable).
    pub refused: u64,
    pub code_bytes: u64,
    pub compile_nanos: u64,
    /// Times the code cache was dropped because it was full.
    pub flushes: u64,
    /// Region entries, and instructions they retired.
    pub entries: u64,
    pub instructions: u64,
}

pub struct Jit {
    /// Two code modules: quick translations (a single-pass register allocator, no
    /// optimisation: most regions run little), and optimised ones for regions that ran
    /// `OPTIMIZE_AT` instructions, which replace the quick code of the same id.
    quick: JITModule,
    optimizing: JITModule,
    ctx: Context,
    fctx: FunctionBuilderContext,
    regions: Vec<Region>,
    /// Per region: instructions it ran so far (counted up to `optimize_at`), and its guest
    /// blocks until it is optimised.
    work: Vec<u32>,
    bodies: Vec<Vec<GuestBlock>>,
    /// Head pc → (the code bytes its region was formed from, region id), newest last: code
    /// that comes back (a program run again, a page rewritten with the same code) is not
    /// translated again.
    known: HashMap<u64, Vec<(Vec<u8>, u32)>>,
    /// Code bytes in the current module.
    bytes: usize,
    pub stats: JitStats,
    /// Instructions after which a region is optimised (`OPTIMIZE_AT`; tests lower it).
    pub optimize_at: u32,
    /// Whether translated code keeps the spin detector's flag-poll state, as the
    /// interpreter does for harts whose spins yield (`Hart::lock_yield`, the same for all
    /// harts of a machine: false in contention mode). Regions run only on such harts.
    pub flag_polls: bool,
}

// SAFETY: the module's code and data are owned by this value alone; the raw pointers inside
// `JITModule` are to memory it allocated, never shared with another thread.
#[allow(unsafe_code)]
unsafe impl Send for Jit {}

/// The spin detector's flag-poll and lock-spin fields of `JitCtx`, in the order of `Gen`'s
/// `poll` and `lock` variables.
const POLL_FIELDS: [usize; 3] = [
    offset_of!(JitCtx, poll_pc),
    offset_of!(JitCtx, poll_value),
    offset_of!(JitCtx, poll_count),
];
const LOCK_FIELDS: [usize; 3] = [
    offset_of!(JitCtx, lock_pc),
    offset_of!(JitCtx, lock_value),
    offset_of!(JitCtx, lock_reads),
];

/// `Ram`'s DIRTY flag value after any store (see ram.rs).
const RAM_DIRTY: i64 = crate::ram::DIRTY as i64;

fn new_module(optimizing: bool) -> Option<JITModule> {
    let mut flags = settings::builder();
    if optimizing {
        flags.set("opt_level", "speed").ok()?;
        flags.set("regalloc_algorithm", "backtracking").ok()?;
    } else {
        flags.set("opt_level", "none").ok()?;
        flags.set("regalloc_algorithm", "single_pass").ok()?;
    }
    flags.set("use_colocated_libcalls", "false").ok()?;
    flags.set("is_pic", "false").ok()?;
    // The generator's output is checked by the lockstep test, not at every translation.
    flags.set("enable_verifier", "false").ok()?;
    let isa = cranelift_native::builder()
        .ok()?
        .finish(settings::Flags::new(flags))
        .ok()?;
    Some(JITModule::new(JITBuilder::with_isa(
        isa,
        default_libcall_names(),
    )))
}

/// One guest basic block of a region.
struct GuestBlock {
    start: u64,
    /// (pc, instruction); the last may be a branch or jump.
    insts: Vec<(u64, Inst)>,
    /// Where to go after the last instruction when it is not a control transfer.
    exit: u64,
}

/// A backward `beqz`/`bnez`: a possible flag poll (spin.rs), whose taken form updates the
/// spin detector.
fn is_flag_poll(i: Inst) -> bool {
    matches!(i.op, Op::Beq | Op::Bne) && i.rs2 == 0 && (i.imm as i64) < 0
}

/// Whether guest block `gb` is a counting loop: it ends in a flag poll back to its own start
/// on a register that it writes once, with `addi`/`addiw` of a non-zero constant to itself.
/// Each time round the branch then compares another value than the time before, so, once
/// the first time round has noted the branch in the spin detector, the next ones cannot be
/// repeats: they only note the new value (see `Gen::steady`), and run unrolled twice
/// (`Gen::steady2`).
fn counting_loop(gb: &GuestBlock) -> bool {
    let Some(&(pc, last)) = gb.insts.last() else {
        return false;
    };
    if !is_flag_poll(last) || pc.wrapping_add(last.imm as i64 as u64) != gb.start {
        return false;
    }
    let r = last.rs1 & 31;
    let writes: Vec<Inst> = gb.insts[..gb.insts.len() - 1]
        .iter()
        .map(|&(_, i)| i)
        .filter(|i| i.rd & 31 == r && writes_rd(i.op))
        .collect();
    r != 0
        && matches!(writes[..], [i] if matches!(i.op, Op::Addi | Op::Addiw)
            && i.rs1 & 31 == r && i.imm != 0)
}

/// Whether `op` writes its `rd` (stores and branches have no destination).
fn writes_rd(op: Op) -> bool {
    !matches!(
        op,
        Op::Sb
            | Op::Sh
            | Op::Sw
            | Op::Sd
            | Op::Beq
            | Op::Bne
            | Op::Blt
            | Op::Bge
            | Op::Bltu
            | Op::Bgeu
            | Op::Nop
            | Op::Fence
    )
}

/// Whether `op` is an AMO (LR/SC and the AMOs are one run of the enum, `LrW` to `AmomaxuD`,
/// in decode.rs).
fn is_amo(op: Op) -> bool {
    use Op::*;
    (LrW as u8..=AmomaxuD as u8).contains(&(op as u8)) && !matches!(op, LrW | ScW | LrD | ScD)
}

fn is_control(op: Op) -> bool {
    matches!(
        op,
        Op::Jal | Op::Jalr | Op::Beq | Op::Bne | Op::Blt | Op::Bge | Op::Bltu | Op::Bgeu
    )
}

/// Whether the translator handles `op` (see the module essay).
/// Whether the translator handles `inst`: the ops of `translatable`, and accesses to
/// `sstatus` (which the generated code checks further, see `Gen::sstatus`).
fn translatable_inst(inst: Inst) -> bool {
    use Op::*;
    translatable(inst.op)
        || matches!(inst.op, Csrrw | Csrrs | Csrrc | Csrrwi | Csrrsi | Csrrci)
            && inst.imm as u16 == super::csr::addr::SSTATUS
}

pub fn translatable(op: Op) -> bool {
    use Op::*;
    !matches!(op, LrW | ScW | LrD | ScD)
        && !matches!(
            op,
            Undecoded
                | Illegal
                | Fence
                | FenceI
                | Ecall
                | Ebreak
                | Mret
                | Sret
                | Wfi
                | SfenceVma
                | Csrrw
                | Csrrs
                | Csrrc
                | Csrrwi
                | Csrrsi
                | Csrrci
        )
}

/// The instruction at `pc` in the page at RAM offset `page_off`, or None when it straddles
/// into the next page.
/// Appends the pc's offset in the page and the bytes read to `read`.
fn fetch(ram: &Ram, page_off: usize, pc: u64, read: &mut Vec<u8>) -> Option<Inst> {
    let in_page = (pc & 0xfff) as usize;
    let lo = ram.load(page_off + in_page, 2) as u32;
    read.extend_from_slice(&(in_page as u16).to_le_bytes());
    read.extend_from_slice(&(lo as u16).to_le_bytes());
    if lo & 3 != 3 {
        return Some(decode(lo).lowered());
    }
    if in_page == 0xffe {
        return None;
    }
    let raw = ram.load(page_off + in_page, 4) as u32;
    read.extend_from_slice(&((raw >> 16) as u16).to_le_bytes());
    Some(decode(raw).lowered())
}

/// Whether the page at RAM offset `page_off` holds the code `read` records (as `fetch`
/// appends it: the offset and first halfword of each instruction, then its second halfword
/// when the first says it is a 32-bit one that does not start at the page's last halfword).
fn holds(ram: &Ram, page_off: usize, read: &[u8]) -> bool {
    let mut halves = read
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]) as usize);
    while let Some(in_page) = halves.next() {
        let Some(lo) = halves.next() else {
            return false;
        };
        if in_page > 0xffe || ram.load(page_off + in_page, 2) != lo as u64 {
            return false;
        }
        // A 32-bit instruction at the page's last halfword was read no further.
        if lo & 3 == 3 && in_page < 0xffe {
            match halves.next() {
                Some(hi) if ram.load(page_off + in_page + 2, 2) == hi as u64 => {}
                _ => return false,
            }
        }
    }
    true
}

/// The guest blocks reachable from `head` inside its page (see the module essay) that the
/// interpreter has run before (`ran` says whether it executed a pc: paths never taken cost
/// no translation), and every address and byte of code read to find them, in the order
/// read. Whatever decided the walk, the region is a translation of exactly those bytes at
/// those addresses: a page holding them there may run it.
fn form_region(
    ram: &Ram,
    page_off: usize,
    head: u64,
    ran: &dyn Fn(u64) -> bool,
) -> (Vec<GuestBlock>, Vec<u8>) {
    let mut read = Vec::new();
    let page = head >> PAGE_SHIFT;
    let mut blocks: Vec<GuestBlock> = Vec::new();
    let mut seen: HashMap<u64, ()> = HashMap::new();
    let mut work = vec![head];
    let mut total = 0;
    seen.insert(head, ());
    while let Some(start) = work.pop() {
        let mut insts = Vec::new();
        let mut pc = start;
        let exit = loop {
            if pc >> PAGE_SHIFT != page || total >= MAX_INSTS {
                break pc;
            }
            let Some(inst) = fetch(ram, page_off, pc, &mut read) else {
                break pc;
            };
            if !translatable_inst(inst) {
                break pc;
            }
            insts.push((pc, inst));
            total += 1;
            let next = pc.wrapping_add(inst.len as u64);
            if is_control(inst.op) {
                let target = pc.wrapping_add(inst.imm as i64 as u64);
                let mut succ = Vec::new();
                match inst.op {
                    Op::Jal => succ.push(target),
                    Op::Jalr => {}
                    _ => {
                        succ.push(next);
                        succ.push(target);
                    }
                }
                for s in succ {
                    if s >> PAGE_SHIFT == page
                        && ran(s)
                        && blocks.len() + work.len() + 1 < MAX_BLOCKS
                        && seen.insert(s, ()).is_none()
                    {
                        work.push(s);
                    }
                }
                break next;
            }
            pc = next;
        };
        blocks.push(GuestBlock { start, insts, exit });
    }
    // The head first: the entry jumps to block 0.
    let h = blocks.iter().position(|b| b.start == head).unwrap_or(0);
    blocks.swap(0, h);
    (blocks, read)
}

impl Jit {
    /// A translator for this host, or None when Cranelift has no backend for it.
    pub fn new() -> Option<Jit> {
        let quick = new_module(false)?;
        let optimizing = new_module(true)?;
        let ctx = quick.make_context();
        Some(Jit {
            quick,
            optimizing,
            ctx,
            fctx: FunctionBuilderContext::new(),
            regions: Vec::new(),
            work: Vec::new(),
            bodies: Vec::new(),
            known: HashMap::new(),
            bytes: 0,
            stats: JitStats::default(),
            optimize_at: OPTIMIZE_AT,
            flag_polls: true,
        })
    }

    /// The region with this id.
    #[inline(always)]
    pub fn region(&self, id: u32) -> Region {
        self.regions[id as usize]
    }

    /// Whether the code cache is full: the caller drops every reference to regions, then
    /// calls [`Jit::flush`].
    pub fn full(&self) -> bool {
        self.bytes >= CODE_LIMIT
    }

    /// Drops every translation. The caller has forgotten every region id.
    pub fn flush(&mut self) {
        let (Some(quick), Some(optimizing)) = (new_module(false), new_module(true)) else {
            return;
        };
        let old = [
            std::mem::replace(&mut self.quick, quick),
            std::mem::replace(&mut self.optimizing, optimizing),
        ];
        for module in old {
            #[allow(unsafe_code)]
            // SAFETY: no region of the old modules is referenced any more (the caller cleared
            // the decode cache's table), so their code can be freed.
            unsafe {
                module.free_memory()
            };
        }
        self.regions.clear();
        self.work.clear();
        self.bodies.clear();
        self.known.clear();
        self.bytes = 0;
        self.stats.flushes += 1;
    }

    /// The region at `head` (a virtual pc in the page at RAM offset `page_off`): one
    /// translated before from the same code bytes, else a new translation. None when its
    /// first instruction cannot be translated.
    pub fn translate(
        &mut self,
        ram: &Ram,
        page_off: usize,
        head: u64,
        ran: &dyn Fn(u64) -> bool,
    ) -> Option<u32> {
        let t0 = Instant::now();
        let (blocks, read) = form_region(ram, page_off, head, ran);
        if blocks.first().is_none_or(|b| b.insts.is_empty()) {
            self.stats.refused += 1;
            return None;
        }
        if let Some(id) = self.find(head, &read) {
            return Some(id);
        }
        let id = self.compile(blocks, head)?;
        let variants = self.known.entry(head).or_default();
        if variants.len() >= MAX_VARIANTS {
            variants.remove(0);
        }
        variants.push((read, id));
        self.stats.compile_nanos += t0.elapsed().as_nanos() as u64;
        Some(id)
    }

    /// The region translated before for `head` from the code now in the page, if any; never
    /// translates (code not yet hot stays interpreted). A translation is of exactly the
    /// bytes it was formed from, wherever they are: the page holding them at the same
    /// offsets may run it, whatever the interpreter has run since (after a snapshot
    /// restore, nothing).
    pub fn reuse(&mut self, ram: &Ram, page_off: usize, head: u64) -> Option<u32> {
        let id = self
            .known
            .get(&head)?
            .iter()
            .find(|(read, _)| holds(ram, page_off, read))?
            .1;
        self.stats.reused += 1;
        Some(id)
    }

    fn find(&mut self, head: u64, read: &[u8]) -> Option<u32> {
        let id = self
            .known
            .get(&head)?
            .iter()
            .find(|(bytes, _)| bytes == read)?
            .1;
        self.stats.reused += 1;
        Some(id)
    }

    /// Region `id` ran `done` instructions: one that has run `optimize_at` in all is
    /// optimised.
    #[inline(always)]
    pub fn ran(&mut self, id: u32, done: u64) {
        let n = &mut self.work[id as usize];
        if *n < self.optimize_at {
            *n = n.saturating_add(done.min(u32::MAX as u64) as u32);
            if *n >= self.optimize_at {
                self.optimize(id);
            }
        }
    }

    #[inline(never)]
    fn optimize(&mut self, id: u32) {
        let blocks = std::mem::take(&mut self.bodies[id as usize]);
        if blocks.is_empty() {
            return;
        }
        let t0 = Instant::now();
        if let Some(entry) = self.emit(&blocks, id, true) {
            self.regions[id as usize].entry = entry;
            self.stats.optimized += 1;
        }
        self.stats.compile_nanos += t0.elapsed().as_nanos() as u64;
    }

    fn compile(&mut self, blocks: Vec<GuestBlock>, head: u64) -> Option<u32> {
        let id = self.regions.len() as u32;
        let entry = self.emit(&blocks, id, false)?;
        self.regions.push(Region {
            entry,
            head,
            first_len: blocks[0].insts.len() as u64,
        });
        self.work.push(0);
        self.bodies.push(blocks);
        self.stats.translations += 1;
        Some(id)
    }

    /// Generates and links the code of region `id`, quick or optimised.
    fn emit(&mut self, blocks: &[GuestBlock], id: u32, optimizing: bool) -> Option<RegionFn> {
        let module = if optimizing {
            &mut self.optimizing
        } else {
            &mut self.quick
        };
        module.clear_context(&mut self.ctx);
        let ptr = module.target_config().pointer_type();
        self.ctx.func.signature.params.push(AbiParam::new(ptr));
        self.ctx.func.signature.returns.push(AbiParam::new(I64));
        let fid = module
            .declare_function(&format!("r{id}"), Linkage::Local, &self.ctx.func.signature)
            .ok()?;
        self.ctx.func.name = UserFuncName::user(0, fid.as_u32());
        {
            let mut b = FunctionBuilder::new(&mut self.ctx.func, &mut self.fctx);
            let mut g = Gen::new(&mut b, self.flag_polls);
            if optimizing {
                g.keep_registers(blocks);
            }
            g.region(blocks);
            b.seal_all_blocks();
            b.finalize(module.target_config());
        }
        let disasm = optimizing && std::env::var_os("XV6SCOPE_JIT_DISASM").is_some();
        self.ctx.set_disasm(disasm);
        module.define_function(fid, &mut self.ctx).ok()?;
        if disasm && let Some(code) = self.ctx.compiled_code().and_then(|c| c.vcode.as_ref()) {
            eprintln!("region {id} at {:#x}:\n{code}", blocks[0].start);
        }
        let size = self
            .ctx
            .compiled_code()
            .map(|c| c.code_buffer().len())
            .unwrap_or(0);
        module.finalize_definitions().ok()?;
        let code = module.get_finalized_function(fid);
        self.bytes += size;
        self.stats.code_bytes = self.bytes as u64;
        #[allow(unsafe_code)]
        // SAFETY: the function was generated with this signature (one pointer in, one i64
        // out) in the host's default calling convention, which is `extern "C"`.
        Some(unsafe { std::mem::transmute::<*const u8, RegionFn>(code) })
    }
}

/// Code generation for one region.
struct Gen<'a, 'b> {
    b: &'a mut FunctionBuilder<'b>,
    /// Guest registers live in `x` between guest blocks; inside one, `cache` holds the
    /// value of each register read or written so far, and `dirty` those written and not yet
    /// stored back. A block ends, and every exit leaves, with all of them stored: no
    /// register value flows between blocks but through memory, so no exit carries any.
    cache: [Option<Value>; 32],
    dirty: u32,
    /// Optimised regions keep registers in variables across guest blocks instead: loaded
    /// once on entry, stored at every exit (all those the region writes anywhere).
    vars: Option<([Variable; 32], u32)>,
    /// The page of the first load and of the first store of this guest block (see
    /// `translate_access`).
    load_page: Option<SeenPage>,
    store_page: Option<SeenPage>,
    /// For loads and for stores: the virtual page number and host address of the page the
    /// region last looked up in the TLB (a page number no address has before the first).
    /// Valid while the region runs: nothing in it changes the TLB, the translation keys, a
    /// page's flags (but the store's own, once) or the watched pages.
    last_page: [[Variable; 2]; 2],
    /// Cycles left: `JitCtx::left` less what the guest blocks entered so far need.
    left: Variable,
    /// Instructions of the current guest block charged to `left` but not executed yet (all
    /// of them inside its body, none once it closes): an exit there has executed
    /// `JitCtx::left - left - pending` instructions before the current block's own.
    pending: i64,
    ctx: Value,
    /// `JitCtx` fields loaded in the current guest block (see `field`).
    fields: [Option<Value>; Field::COUNT],
    /// Whether taken flag polls update the spin detector (`Jit::flag_polls`).
    flag_polls: bool,
    /// The flag-poll state (pc, value, count) while the region runs, when it has flag polls.
    poll: Option<[Variable; 3]>,
    /// The lock-spin state (pc, value, reads) while the region runs, when it has swaps.
    lock: Option<[Variable; 3]>,
    exit: Block,
    /// Guest block start → Cranelift block.
    labels: HashMap<u64, Block>,
    /// Counting loops (see `counting_loop`): guest block start → the Cranelift block of its
    /// second copy, entered only from its own back edge; and whether that copy is the one
    /// being generated.
    steady: HashMap<u64, Block>,
    in_steady: bool,
    /// Counting loops: their steady copy unrolled twice (one budget test per two times
    /// round), which the back edges enter; it falls back to the single steady copy when
    /// only one time round fits.
    steady2: HashMap<u64, Block>,
    /// The start of the guest block being generated.
    block_start: u64,
}

/// The `JitCtx` fields the generated code reads. Each is loaded where a guest block first
/// needs it, not once for the region: a value live across the whole region takes a host
/// register from the guest registers (or is spilled, which costs the same load), and a load
/// from the context, which stays in the L1 cache, is as cheap as a reload from the stack.
#[derive(Clone, Copy)]
enum Field {
    X,
    Ram,
    Flags,
    TlbLoad,
    TlbStore,
    Key,
    PageOff,
    Mstatus,
    SstatusOk,
}

impl Field {
    const COUNT: usize = 9;

    fn offset(self) -> usize {
        match self {
            Field::X => offset_of!(JitCtx, x),
            Field::Ram => offset_of!(JitCtx, ram),
            Field::Flags => offset_of!(JitCtx, flags),
            Field::TlbLoad => offset_of!(JitCtx, tlb_load),
            Field::TlbStore => offset_of!(JitCtx, tlb_store),
            Field::Key => offset_of!(JitCtx, key_ls),
            Field::PageOff => offset_of!(JitCtx, page_off),
            Field::Mstatus => offset_of!(JitCtx, mstatus),
            Field::SstatusOk => offset_of!(JitCtx, sstatus_ok),
        }
    }
}

/// A page a guest block accessed through the TLB: later accesses to it need no lookup, and
/// no flag or own-page test (nothing in between can change them).
#[derive(Clone, Copy)]
struct SeenPage {
    /// The address accessed, and the host address of its page.
    va: Value,
    page: Value,
    /// While the base register of that access keeps its value: the access's register,
    /// offset, size (its address is aligned to it) and host address and offset in the page.
    /// An access through the same register then knows its distance from the first at
    /// compile time.
    anchor: Option<Anchor>,
}

#[derive(Clone, Copy)]
struct Anchor {
    reg: u8,
    imm: i64,
    size: i64,
    in_page: Value,
    host: Value,
}

fn mem() -> MemFlagsData {
    MemFlagsData::new()
        .with_notrap()
        .with_endianness(Endianness::Little)
}

impl<'a, 'b> Gen<'a, 'b> {
    fn new(b: &'a mut FunctionBuilder<'b>, flag_polls: bool) -> Self {
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let ctx = b.block_params(entry)[0];
        let left_in = b
            .ins()
            .load(I64, mem(), ctx, offset_of!(JitCtx, left) as i32);
        let left = b.declare_var(I64);
        b.def_var(left, left_in);
        let none = b.ins().iconst(I64, -1);
        let null = b.ins().iconst(I64, 0);
        let last_page = std::array::from_fn(|_| {
            let vpn = b.declare_var(I64);
            let page = b.declare_var(I64);
            b.def_var(vpn, none);
            b.def_var(page, null);
            [vpn, page]
        });
        let exit = b.create_block();
        // Exits and slow paths are cold: Cranelift lays them out after the rest, so the
        // paths a loop takes fall through.
        b.set_cold_block(exit);
        b.append_block_param(exit, I64); // pc
        b.append_block_param(exit, I64); // instructions executed
        Gen {
            b,
            cache: [None; 32],
            dirty: 0,
            vars: None,
            load_page: None,
            store_page: None,
            last_page,
            left,
            pending: 0,
            ctx,
            fields: [None; Field::COUNT],
            flag_polls,
            poll: None,
            lock: None,
            exit,
            labels: HashMap::new(),
            steady: HashMap::new(),
            in_steady: false,
            steady2: HashMap::new(),
            block_start: 0,
        }
    }

    /// A context field, loaded once per guest block (see `Field`). The code of one guest
    /// block is a chain of Cranelift blocks each dominating the next, so a value loaded in
    /// it serves the rest of it.
    fn field(&mut self, f: Field) -> Value {
        if let Some(v) = self.fields[f as usize] {
            return v;
        }
        let v = self.b.ins().load(I64, mem(), self.ctx, f.offset() as i32);
        self.fields[f as usize] = Some(v);
        v
    }

    /// A context field for a side path (an exit): the cached value if the main path has
    /// one, else a load that is not cached, since the main path does not pass here.
    fn field_aside(&mut self, f: Field) -> Value {
        match self.fields[f as usize] {
            Some(v) => v,
            None => self.b.ins().load(I64, mem(), self.ctx, f.offset() as i32),
        }
    }

    /// Switches to registers in variables (see `vars`), before any code is generated.
    fn keep_registers(&mut self, blocks: &[GuestBlock]) {
        let (mut used, mut written) = (0u32, 0u32);
        for (_, i) in blocks.iter().flat_map(|b| &b.insts) {
            // Every field, whether the format has it or not: a register too many is a load.
            used |= 1 << (i.rs1 & 31) | 1 << (i.rs2 & 31) | 1 << (i.rd & 31);
            written |= 1 << (i.rd & 31);
        }
        let zero = self.b.ins().iconst(I64, 0);
        let x = self
            .b
            .ins()
            .load(I64, mem(), self.ctx, offset_of!(JitCtx, x) as i32);
        let vars = std::array::from_fn(|r| {
            let v = self.b.declare_var(I64);
            let value = if r != 0 && used >> r & 1 != 0 {
                self.b.ins().load(I64, mem(), x, (r * 8) as i32)
            } else {
                zero
            };
            self.b.def_var(v, value);
            v
        });
        self.vars = Some((vars, written & !1));
    }

    fn reg(&mut self, r: u8) -> Value {
        let r = (r & 31) as usize;
        if r == 0 {
            return self.b.ins().iconst(I64, 0);
        }
        if let Some((vars, _)) = self.vars {
            return self.b.use_var(vars[r]);
        }
        if let Some(v) = self.cache[r] {
            return v;
        }
        let x = self.field(Field::X);
        let v = self.b.ins().load(I64, mem(), x, (r * 8) as i32);
        self.cache[r] = Some(v);
        v
    }

    fn set(&mut self, r: u8, v: Value) {
        for seen in [&mut self.load_page, &mut self.store_page]
            .into_iter()
            .flatten()
        {
            if seen.anchor.is_some_and(|a| a.reg == r & 31) {
                seen.anchor = None;
            }
        }
        let r = (r & 31) as usize;
        if let Some((vars, _)) = self.vars {
            if r != 0 {
                self.b.def_var(vars[r], v);
            }
            return;
        }
        if r != 0 {
            self.cache[r] = Some(v);
            self.dirty |= 1 << r;
        }
    }

    /// Stores the registers written since the block began (they stay cached and dirty: the
    /// caller may be on a side path that leaves while the main path goes on).
    fn store_dirty(&mut self) {
        if let Some((vars, written)) = self.vars {
            let x = self.field_aside(Field::X);
            for (r, &var) in vars.iter().enumerate().skip(1) {
                if written >> r & 1 != 0 {
                    let v = self.b.use_var(var);
                    self.b.ins().store(mem(), v, x, (r * 8) as i32);
                }
            }
            return;
        }
        if self.dirty & !1 == 0 {
            return;
        }
        let x = self.field_aside(Field::X);
        for r in 1..32 {
            if self.dirty >> r & 1 != 0
                && let Some(v) = self.cache[r]
            {
                self.b.ins().store(mem(), v, x, (r * 8) as i32);
            }
        }
    }

    /// Stores what is dirty and starts afresh: the end of a guest block.
    fn end_block(&mut self) {
        if self.vars.is_some() {
            return;
        }
        self.store_dirty();
        self.dirty = 0;
        self.cache = [None; 32];
    }

    /// Leaves the region: continue at `pc`, with `done` instructions executed in all.
    fn leave(&mut self, pc: Value, done: Value) {
        self.store_dirty();
        self.b
            .ins()
            .jump(self.exit, &[BlockArg::Value(pc), BlockArg::Value(done)]);
    }

    /// Leaves at a constant pc, `extra` instructions after the count before the current
    /// guest block's instructions not yet executed (`pending`).
    fn leave_at(&mut self, pc: u64, extra: i64) {
        let pc = self.b.ins().iconst(I64, pc as i64);
        let done = self.executed(extra);
        self.leave(pc, done);
    }

    /// Instructions executed so far: `extra` after those before the current guest block's
    /// instructions not yet executed (`pending`).
    fn executed(&mut self, extra: i64) -> Value {
        let left_in = self
            .b
            .ins()
            .load(I64, mem(), self.ctx, offset_of!(JitCtx, left) as i32);
        let left = self.b.use_var(self.left);
        let used = self.b.ins().isub(left_in, left);
        self.b.ins().iadd_imm_s(used, extra - self.pending)
    }

    fn region(&mut self, blocks: &[GuestBlock]) {
        for gb in blocks {
            let l = self.b.create_block();
            self.labels.insert(gb.start, l);
        }
        let polls = blocks
            .iter()
            .flat_map(|b| &b.insts)
            .any(|&(_, i)| is_flag_poll(i));
        if polls && self.flag_polls {
            self.poll = Some(self.vars_from_ctx(POLL_FIELDS));
        }
        let swaps = blocks
            .iter()
            .flat_map(|b| &b.insts)
            .any(|&(_, i)| matches!(i.op, Op::AmoswapW | Op::AmoswapD));
        if swaps && self.flag_polls {
            self.lock = Some(self.vars_from_ctx(LOCK_FIELDS));
        }
        if self.poll.is_some() {
            for gb in blocks.iter().filter(|gb| counting_loop(gb)) {
                let l = self.b.create_block();
                self.steady.insert(gb.start, l);
                let l2 = self.b.create_block();
                self.steady2.insert(gb.start, l2);
            }
        }
        let first = self.labels[&blocks[0].start];
        self.b.ins().jump(first, &[]);
        for gb in blocks {
            self.guest_block(gb);
            if self.steady.contains_key(&gb.start) {
                self.in_steady = true;
                self.guest_block(gb);
                self.in_steady = false;
                self.unrolled(gb);
            }
        }
        // The exit: the registers are in `x` already.
        self.b.switch_to_block(self.exit);
        let params = self.b.block_params(self.exit).to_vec();
        self.b
            .ins()
            .store(mem(), params[0], self.ctx, offset_of!(JitCtx, pc) as i32);
        if let Some(vars) = self.poll {
            self.vars_to_ctx(vars, POLL_FIELDS);
        }
        if let Some(vars) = self.lock {
            self.vars_to_ctx(vars, LOCK_FIELDS);
        }
        self.b.ins().return_(&[params[1]]);
    }

    /// Variables holding these context fields while the region runs (see `vars_to_ctx`).
    fn vars_from_ctx(&mut self, fields: [usize; 3]) -> [Variable; 3] {
        fields.map(|off| {
            let v = self.b.declare_var(I64);
            let value = self.b.ins().load(I64, mem(), self.ctx, off as i32);
            self.b.def_var(v, value);
            v
        })
    }

    /// Stores variables back into their context fields, on the way out.
    fn vars_to_ctx(&mut self, vars: [Variable; 3], fields: [usize; 3]) {
        for (var, off) in vars.into_iter().zip(fields) {
            let v = self.b.use_var(var);
            self.b.ins().store(mem(), v, self.ctx, off as i32);
        }
    }

    /// Jumps to the guest block at `pc` if the region has it, else leaves there; `done`
    /// counts the instructions executed so far.
    fn goto(&mut self, pc: u64) {
        self.end_block();
        if let Some(&l) = self.labels.get(&pc) {
            self.b.ins().jump(l, &[]);
        } else {
            self.leave_at(pc, 0);
        }
    }

    /// Starts generating guest block `start` at Cranelift block `l`: nothing of the code
    /// before is known there (registers, pages, context fields).
    fn start_block(&mut self, l: Block, start: u64) {
        self.b.switch_to_block(l);
        self.block_start = start;
        self.cache = [None; 32];
        self.dirty = 0;
        self.load_page = None;
        self.store_page = None;
        self.fields = [None; Field::COUNT];
        self.pending = 0;
    }

    fn guest_block(&mut self, gb: &GuestBlock) {
        let l = if self.in_steady {
            self.steady[&gb.start]
        } else {
            self.labels[&gb.start]
        };
        self.start_block(l, gb.start);
        if gb.insts.is_empty() {
            // Its first instruction is the interpreter's.
            self.leave_at(gb.start, 0);
            return;
        }
        let len = gb.insts.len() as i64;
        // The whole block must fit in what is left, or none of it runs here.
        let left = self.b.use_var(self.left);
        let fits = self
            .b
            .ins()
            .icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, left, len);
        let body = self.b.create_block();
        let out = self.b.create_block();
        self.b.set_cold_block(out);
        self.b.ins().brif(fits, body, &[], out, &[]);
        self.b.switch_to_block(out);
        self.leave_at(gb.start, 0);
        self.b.switch_to_block(body);
        let rest = self.b.ins().iadd_imm_s(left, -len);
        self.b.def_var(self.left, rest);
        self.pending = len;
        for (i, &(pc, inst)) in gb.insts.iter().enumerate() {
            let last = i + 1 == gb.insts.len();
            if last && is_control(inst.op) {
                self.control(pc, inst);
                return;
            }
            self.inst(pc, inst, i as i64);
        }
        self.pending = 0;
        self.goto(gb.exit);
    }

    /// The steady copy of counting loop `gb` twice over (see `steady2`): what `guest_block`
    /// and `control` generate for it, with one budget test for both times round and the
    /// first time's back edge falling into the second.
    fn unrolled(&mut self, gb: &GuestBlock) {
        let l = self.steady2[&gb.start];
        self.start_block(l, gb.start);
        let len = gb.insts.len() as i64;
        let left = self.b.use_var(self.left);
        let fits = self
            .b
            .ins()
            .icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, left, 2 * len);
        let body = self.b.create_block();
        let one = self.b.create_block();
        self.b.set_cold_block(one);
        self.b.ins().brif(fits, body, &[], one, &[]);
        // One time round at most: the single copy tests and leaves (nothing is dirty yet).
        self.b.switch_to_block(one);
        let single = self.steady[&gb.start];
        self.b.ins().jump(single, &[]);
        self.b.switch_to_block(body);
        let rest = self.b.ins().iadd_imm_s(left, -2 * len);
        self.b.def_var(self.left, rest);
        self.pending = 2 * len;
        for round in 0..2 {
            for (i, &(pc, inst)) in gb.insts.iter().enumerate() {
                if i + 1 < gb.insts.len() {
                    self.inst(pc, inst, i as i64 + round * len);
                    continue;
                }
                // The flag poll closing the loop (`counting_loop`): beqz or bnez.
                let a = self.reg(inst.rs1);
                let cc = if inst.op == Op::Beq {
                    IntCC::Equal
                } else {
                    IntCC::NotEqual
                };
                let taken = self.b.ins().icmp_imm_s(cc, a, 0);
                self.end_block();
                let yes = self.b.create_block();
                let no = self.b.create_block();
                self.b.set_cold_block(no);
                self.b.ins().brif(taken, yes, &[], no, &[]);
                self.b.switch_to_block(no);
                if round == 0 {
                    // Out after the first time round: the second's cycles are not used.
                    let left = self.b.use_var(self.left);
                    let refund = self.b.ins().iadd_imm_s(left, len);
                    self.b.def_var(self.left, refund);
                }
                self.pending = 0;
                self.goto(pc.wrapping_add(inst.len as u64));
                self.pending = if round == 0 { 2 * len } else { 0 };
                self.b.switch_to_block(yes);
                if let Some([_, poll_value, _]) = self.poll {
                    self.b.def_var(poll_value, a);
                }
                if round == 1 {
                    self.end_block();
                    self.b.ins().jump(l, &[]);
                }
            }
        }
    }

    /// The block's closing branch or jump; `len` counts the block's instructions.
    fn control(&mut self, pc: u64, inst: Inst) {
        let next = pc.wrapping_add(inst.len as u64);
        let target = pc.wrapping_add(inst.imm as i64 as u64);
        match inst.op {
            Op::Jal => {
                let link = self.b.ins().iconst(I64, next as i64);
                self.set(inst.rd, link);
                self.pending = 0;
                self.goto(target);
            }
            Op::Jalr => {
                let a = self.reg(inst.rs1);
                let t = self.b.ins().iadd_imm_s(a, inst.imm as i64);
                let t = self.b.ins().band_imm_s(t, !1);
                let link = self.b.ins().iconst(I64, next as i64);
                self.set(inst.rd, link);
                self.pending = 0;
                let done = self.executed(0);
                self.leave(t, done);
            }
            _ => {
                let a = self.reg(inst.rs1);
                let bv = self.reg(inst.rs2);
                let cc = match inst.op {
                    Op::Beq => IntCC::Equal,
                    Op::Bne => IntCC::NotEqual,
                    Op::Blt => IntCC::SignedLessThan,
                    Op::Bge => IntCC::SignedGreaterThanOrEqual,
                    Op::Bltu => IntCC::UnsignedLessThan,
                    _ => IntCC::UnsignedGreaterThanOrEqual,
                };
                let taken = self.b.ins().icmp(cc, a, bv);
                self.pending = 0;
                // Both ways need the registers in memory.
                self.end_block();
                let yes = self.b.create_block();
                let no = self.b.create_block();
                if target < pc {
                    // A loop's back edge: leaving the loop is the rare way.
                    self.b.set_cold_block(no);
                }
                self.b.ins().brif(taken, yes, &[], no, &[]);
                self.b.switch_to_block(no);
                self.goto(next);
                self.b.switch_to_block(yes);
                let own_back_edge = target == self.block_start;
                if let Some(&steady2) = self.steady2.get(&target).filter(|_| own_back_edge) {
                    // The back edge of a counting loop (this block, see `counting_loop`):
                    // from the first time round on, the value differs from the one noted
                    // the time before. Other branches to its start enter its first copy.
                    // The steady copy is entered only after a note (a repeat goes round the
                    // first copy again), so the pc is noted and the count 0 there.
                    if self.in_steady {
                        if let Some([_, poll_value, _]) = self.poll {
                            self.b.def_var(poll_value, a);
                        }
                    } else {
                        let first = self.labels[&target];
                        self.spin_check(pc, a, Some(first));
                    }
                    self.end_block();
                    self.b.ins().jump(steady2, &[]);
                    return;
                }
                if is_flag_poll(inst) {
                    self.spin_check(pc, a, None);
                }
                self.goto(target);
            }
        }
    }

    /// The interpreter's `SpinDetector::backward_branch` for a taken flag-poll branch at
    /// `pc` on `value`: a new (pc, value) pair is noted, a repeat counted; the repeats at
    /// which the detector hashes the registers (the 64th and the 128th) leave before the
    /// branch, so that the interpreter takes them.
    /// A repeat goes on to `repeat_to` if given (registers are in memory or variables
    /// already: the branch's block has ended), else with the branch.
    fn spin_check(&mut self, pc: u64, value: Value, repeat_to: Option<Block>) {
        let Some([poll_pc, poll_value, poll_count]) = self.poll else {
            return;
        };
        let cont = self.b.create_block();
        let repeat = self.b.create_block();
        let note = self.b.create_block();
        let same_value_block = self.b.create_block();
        let hashed = self.b.create_block();
        self.b.set_cold_block(same_value_block);
        self.b.set_cold_block(repeat);
        self.b.set_cold_block(hashed);
        // The value first: a loop that counts or walks compares a new one each time.
        let seen_value = self.b.use_var(poll_value);
        let same_value = self.b.ins().icmp(IntCC::Equal, seen_value, value);
        self.b
            .ins()
            .brif(same_value, same_value_block, &[], note, &[]);
        self.b.switch_to_block(same_value_block);
        let seen_pc = self.b.use_var(poll_pc);
        let same_pc = self.b.ins().icmp_imm_s(IntCC::Equal, seen_pc, pc as i64);
        self.b.ins().brif(same_pc, repeat, &[], note, &[]);
        self.b.switch_to_block(repeat);
        let count = self.b.use_var(poll_count);
        let counted = self.b.ins().iadd_imm_s(count, 1);
        let at_64 = self.b.ins().icmp_imm_s(IntCC::Equal, counted, 64);
        let at_128 = self.b.ins().icmp_imm_s(IntCC::Equal, counted, 128);
        let hashes = self.b.ins().bor(at_64, at_128);
        let go = self.b.create_block();
        self.b.ins().brif(hashes, hashed, &[], go, &[]);
        self.b.switch_to_block(hashed);
        // `executed` already counts the whole block, the branch included.
        self.leave_at(pc, -1);
        self.b.switch_to_block(go);
        self.b.def_var(poll_count, counted);
        self.b.ins().jump(repeat_to.unwrap_or(cont), &[]);
        self.b.switch_to_block(note);
        let pcv = self.b.ins().iconst(I64, pc as i64);
        self.b.def_var(poll_pc, pcv);
        self.b.def_var(poll_value, value);
        let zero = self.b.ins().iconst(I64, 0);
        self.b.def_var(poll_count, zero);
        self.b.ins().jump(cont, &[]);
        self.b.switch_to_block(cont);
    }

    /// The host address of a RAM access of `size` bytes at `va` (register `rs1` plus `imm`)
    /// through the load or store TLB, or a jump out before the instruction (index `i` of its
    /// block, at `pc`) when the fast path does not apply.
    #[allow(clippy::too_many_arguments)]
    fn translate_access(
        &mut self,
        store: bool,
        va: Value,
        rs1: u8,
        imm: i64,
        size: i64,
        pc: u64,
        i: i64,
    ) -> Value {
        let seen = if store {
            self.store_page
        } else {
            self.load_page
        };
        if let Some(seen) = seen {
            return self.same_page(seen, va, rs1, imm, size, pc, i);
        }
        let vpn = self.b.ins().ushr_imm_s(va, 12);
        let join = self.b.create_block();
        self.b.append_block_param(join, I64);
        let [last_vpn, last_page] = self.last_page[store as usize];
        // The page of this kind of access the region used last (see `last_page`).
        let last = self.b.use_var(last_vpn);
        let miss = if size > 1 {
            let other = self.b.ins().bxor(vpn, last);
            let low = self.b.ins().band_imm_s(va, size - 1);
            self.b.ins().bor(other, low)
        } else {
            self.b.ins().icmp(IntCC::NotEqual, vpn, last)
        };
        let lookup = self.b.create_block();
        self.b.set_cold_block(lookup);
        let page = self.b.use_var(last_page);
        self.b
            .ins()
            .brif(miss, lookup, &[], join, &[BlockArg::Value(page)]);
        // A lookup in the TLB. This path does not dominate the rest of the guest block:
        // context fields are loaded aside.
        self.b.switch_to_block(lookup);
        let fast = self.b.create_block();
        let slow = self.b.create_block();
        self.b.set_cold_block(slow);
        let tlb = self.field_aside(if store {
            Field::TlbStore
        } else {
            Field::TlbLoad
        });
        let idx = self.b.ins().band_imm_s(vpn, super::mmu::TLB_MASK as i64);
        let scaled = self
            .b
            .ins()
            .imul_imm_s(idx, std::mem::size_of::<TlbEntry>() as i64);
        let entry = self.b.ins().iadd(tlb, scaled);
        let tag = self
            .b
            .ins()
            .load(I64, mem(), entry, offset_of!(TlbEntry, tag) as i32);
        let base = self
            .b
            .ins()
            .load(I64, mem(), entry, offset_of!(TlbEntry, base) as i32);
        let key = self.field_aside(Field::Key);
        let want = self.b.ins().bor(vpn, key);
        // One test for both: the tag matches and the address is aligned.
        let mut miss = self.b.ins().bxor(tag, want);
        if size > 1 {
            let low = self.b.ins().band_imm_s(va, size - 1);
            miss = self.b.ins().bor(miss, low);
        }
        self.b.ins().brif(miss, slow, &[], fast, &[]);
        self.b.switch_to_block(slow);
        // The interpreter redoes this instruction through its slow path.
        self.leave_at(pc, i);
        self.b.switch_to_block(fast);
        if store {
            // A store into the region's own page leaves before it: the interpreter does
            // it and re-validates the page's code.
            let page_off = self.field_aside(Field::PageOff);
            let own = self.b.ins().icmp(IntCC::Equal, base, page_off);
            let out = self.b.create_block();
            let other = self.b.create_block();
            self.b.set_cold_block(out);
            self.b.ins().brif(own, out, &[], other, &[]);
            self.b.switch_to_block(out);
            self.leave_at(pc, i);
            self.b.switch_to_block(other);
            // As `Ram::store`: the page is dirty and no longer holds valid code. Nothing
            // clears the flag while the region runs, so this is done once per page.
            let flag_index = self.b.ins().ushr_imm_s(base, PAGE_SHIFT as i64);
            let flags = self.field_aside(Field::Flags);
            let flag = self.b.ins().iadd(flags, flag_index);
            let dirty = self.b.ins().iconst(I8, RAM_DIRTY);
            self.b.ins().store(mem(), dirty, flag, 0);
        }
        let ram = self.field_aside(Field::Ram);
        let page = self.b.ins().iadd(ram, base);
        self.b.def_var(last_vpn, vpn);
        self.b.def_var(last_page, page);
        self.b.ins().jump(join, &[BlockArg::Value(page)]);
        self.b.switch_to_block(join);
        let page = self.b.block_params(join)[0];
        let in_page = self.b.ins().band_imm_s(va, 0xfff);
        let host = self.b.ins().iadd(page, in_page);
        let seen = SeenPage {
            va,
            page,
            anchor: Some(Anchor {
                reg: rs1 & 31,
                imm,
                size,
                in_page,
                host,
            }),
        };
        if store {
            self.store_page = Some(seen);
        } else {
            self.load_page = Some(seen);
        }
        host
    }

    /// The host address of an access to the page `seen` when it is that page and aligned,
    /// else a jump out before the instruction.
    #[allow(clippy::too_many_arguments)]
    fn same_page(
        &mut self,
        seen: SeenPage,
        va: Value,
        rs1: u8,
        imm: i64,
        size: i64,
        pc: u64,
        i: i64,
    ) -> Value {
        let anchored = seen.anchor.filter(|a| {
            let delta = imm - a.imm;
            // Aligned, since the first address was aligned to a multiple of `size`.
            a.reg == rs1 & 31 && size <= a.size && delta % size == 0
        });
        if let Some(a) = anchored {
            let delta = imm - a.imm;
            if delta >= 0 && delta + size <= a.size {
                // Inside the first access's own aligned bytes: its page, surely.
                return self.b.ins().iadd_imm_s(a.host, delta);
            }
        }
        let fast = self.b.create_block();
        let slow = self.b.create_block();
        self.b.set_cold_block(slow);
        let off_page = if let Some(a) = anchored {
            // In the page when the first access's offset plus the distance stays in it.
            let off = self.b.ins().iadd_imm_s(a.in_page, imm - a.imm);
            self.b
                .ins()
                .icmp_imm_s(IntCC::UnsignedGreaterThan, off, 4096 - size)
        } else {
            let x = self.b.ins().bxor(va, seen.va);
            let mut off_page = self.b.ins().band_imm_s(x, !0xfff);
            if size > 1 {
                let low = self.b.ins().band_imm_s(va, size - 1);
                off_page = self.b.ins().bor(off_page, low);
            }
            off_page
        };
        self.b.ins().brif(off_page, slow, &[], fast, &[]);
        self.b.switch_to_block(slow);
        self.leave_at(pc, i);
        self.b.switch_to_block(fast);
        match anchored {
            Some(a) => self.b.ins().iadd_imm_s(a.host, imm - a.imm),
            None => {
                let in_page = self.b.ins().band_imm_s(va, 0xfff);
                self.b.ins().iadd(seen.page, in_page)
            }
        }
    }

    fn inst(&mut self, pc: u64, inst: Inst, i: i64) {
        let imm = inst.imm as i64;
        let w = |g: &mut Self, v: Value| {
            let n = g.b.ins().ireduce(I32, v);
            g.b.ins().sextend(I64, n)
        };
        match inst.op {
            Op::Nop | Op::Fence => {}
            Op::Lui => {
                let v = self.b.ins().iconst(I64, imm);
                self.set(inst.rd, v);
            }
            Op::Auipc => {
                let v = self.b.ins().iconst(I64, pc.wrapping_add(imm as u64) as i64);
                self.set(inst.rd, v);
            }
            op if is_amo(op) => self.amo(pc, inst, i),
            Op::Csrrw | Op::Csrrs | Op::Csrrc | Op::Csrrwi | Op::Csrrsi | Op::Csrrci => {
                self.sstatus(pc, inst, i)
            }
            Op::Lb | Op::Lh | Op::Lw | Op::Ld | Op::Lbu | Op::Lhu | Op::Lwu => {
                let size = match inst.op {
                    Op::Lb | Op::Lbu => 1,
                    Op::Lh | Op::Lhu => 2,
                    Op::Lw | Op::Lwu => 4,
                    _ => 8,
                };
                let a = self.reg(inst.rs1);
                let va = self.b.ins().iadd_imm_s(a, imm);
                let host = self.translate_access(false, va, inst.rs1, imm, size, pc, i);
                let m = mem();
                let v = match inst.op {
                    Op::Lb => self.b.ins().sload8(I64, m, host, 0),
                    Op::Lbu => self.b.ins().uload8(I64, m, host, 0),
                    Op::Lh => self.b.ins().sload16(I64, m, host, 0),
                    Op::Lhu => self.b.ins().uload16(I64, m, host, 0),
                    Op::Lw => self.b.ins().sload32(m, host, 0),
                    Op::Lwu => self.b.ins().uload32(m, host, 0),
                    _ => self.b.ins().load(I64, m, host, 0),
                };
                self.set(inst.rd, v);
            }
            Op::Sb | Op::Sh | Op::Sw | Op::Sd => {
                let size = match inst.op {
                    Op::Sb => 1,
                    Op::Sh => 2,
                    Op::Sw => 4,
                    _ => 8,
                };
                let a = self.reg(inst.rs1);
                let v = self.reg(inst.rs2);
                let va = self.b.ins().iadd_imm_s(a, imm);
                let host = self.translate_access(true, va, inst.rs1, imm, size, pc, i);
                let m = mem();
                match size {
                    1 => self.b.ins().istore8(m, v, host, 0),
                    2 => self.b.ins().istore16(m, v, host, 0),
                    4 => self.b.ins().istore32(m, v, host, 0),
                    _ => self.b.ins().store(m, v, host, 0),
                };
            }
            _ => {
                let a = self.reg(inst.rs1);
                let bv = match inst.op {
                    Op::Addi
                    | Op::Slti
                    | Op::Sltiu
                    | Op::Xori
                    | Op::Ori
                    | Op::Andi
                    | Op::Slli
                    | Op::Srli
                    | Op::Srai
                    | Op::Addiw
                    | Op::Slliw
                    | Op::Srliw
                    | Op::Sraiw => self.b.ins().iconst(I64, imm),
                    _ => self.reg(inst.rs2),
                };
                let v = self.alu(inst.op, a, bv, w);
                self.set(inst.rd, v);
            }
        }
    }

    /// A CSR instruction on `sstatus` (`translatable_inst`), as `Hart::csr_op` does it, when
    /// it only reads or leaves `SIE` as the one bit changed, and clear: xv6's `intr_get`
    /// and `intr_off`, in every lock's `push_off`. Anything else (`intr_on`, a change of
    /// `SUM`, `SPP`..., another mode, an M-level interrupt pending: `sstatus_ok` clear)
    /// leaves before it. What the interpreter does after such a write cannot matter then:
    /// with `SIE` clear in S-mode only M-level interrupts are enabled, and none is pending
    /// (and neither hashes the state for the spin detector, which it does only when
    /// interrupts are left enabled; nor change the TLB keys, which depend on SUM and MXR).
    fn sstatus(&mut self, pc: u64, inst: Inst, i: i64) {
        use super::csr::{MSTATUS_SIE, MSTATUS_XLEN, SSTATUS_VIEW, SSTATUS_WRITABLE};
        let leave_if = |g: &mut Self, cond: Value| {
            let out = g.b.create_block();
            let go = g.b.create_block();
            g.b.set_cold_block(out);
            g.b.ins().brif(cond, out, &[], go, &[]);
            g.b.switch_to_block(out);
            g.leave_at(pc, i);
            g.b.switch_to_block(go);
        };
        let ok = self.field(Field::SstatusOk);
        let not_ok = self.b.ins().icmp_imm_s(IntCC::Equal, ok, 0);
        leave_if(self, not_ok);
        let at = self.field(Field::Mstatus);
        let m = self.b.ins().load(I64, mem(), at, 0);
        let with_xlen = self.b.ins().bor_imm_s(m, MSTATUS_XLEN as i64);
        let view = self.b.ins().band_imm_s(with_xlen, SSTATUS_VIEW as i64);
        let immediate = matches!(inst.op, Op::Csrrwi | Op::Csrrsi | Op::Csrrci);
        let writes = matches!(inst.op, Op::Csrrw | Op::Csrrwi) || inst.rs1 != 0;
        if writes {
            let operand = if immediate {
                self.b.ins().iconst(I64, inst.rs1 as i64)
            } else {
                self.reg(inst.rs1)
            };
            let new = match inst.op {
                Op::Csrrw | Op::Csrrwi => operand,
                Op::Csrrs | Op::Csrrsi => self.b.ins().bor(view, operand),
                _ => {
                    let cleared = self.b.ins().bnot(operand);
                    self.b.ins().band(view, cleared)
                }
            };
            let kept = self.b.ins().band_imm_s(m, !SSTATUS_WRITABLE as i64);
            let written = self.b.ins().band_imm_s(new, SSTATUS_WRITABLE as i64);
            let new_m = self.b.ins().bor(kept, written);
            let changed = self.b.ins().bxor(new_m, m);
            let others = self.b.ins().band_imm_s(changed, !MSTATUS_SIE as i64);
            let sie = self.b.ins().band_imm_s(new_m, MSTATUS_SIE as i64);
            let refused = self.b.ins().bor(others, sie);
            leave_if(self, refused);
            self.b.ins().store(mem(), new_m, at, 0);
        }
        self.set(inst.rd, view);
    }

    /// An AMO, as `Hart::amo` with the spin detector's `atomic_read` for swaps: a store
    /// access (the store TLB, alignment, watchpoints, the own page) reading the old value
    /// into `rd`. A swap that the detector would call a lock spin leaves before it, so that
    /// the interpreter yields there.
    fn amo(&mut self, pc: u64, inst: Inst, i: i64) {
        use Op::*;
        let word = (AmoswapW as u8..=AmomaxuW as u8).contains(&(inst.op as u8));
        let size = if word { 4 } else { 8 };
        let va = self.reg(inst.rs1);
        let src = self.reg(inst.rs2);
        let host = self.translate_access(true, va, inst.rs1, 0, size, pc, i);
        let m = mem();
        let (old, src) = if word {
            let old = self.b.ins().sload32(m, host, 0);
            let lo = self.b.ins().ireduce(I32, src);
            (old, self.b.ins().sextend(I64, lo))
        } else {
            (self.b.ins().load(I64, m, host, 0), src)
        };
        if matches!(inst.op, AmoswapW | AmoswapD)
            && let Some([lock_pc, lock_value, lock_reads]) = self.lock
        {
            // `atomic_read(pc, old)`: a repeat is a non-zero value read again at this pc.
            let seen_pc = self.b.use_var(lock_pc);
            let seen_value = self.b.use_var(lock_value);
            let reads = self.b.use_var(lock_reads);
            let nonzero = self.b.ins().icmp_imm_s(IntCC::NotEqual, old, 0);
            let same_pc = self.b.ins().icmp_imm_s(IntCC::Equal, seen_pc, pc as i64);
            let same_value = self.b.ins().icmp(IntCC::Equal, seen_value, old);
            let same = self.b.ins().band(nonzero, same_pc);
            let repeat = self.b.ins().band(same, same_value);
            let repeat = self.b.ins().uextend(I64, repeat);
            let counted = self.b.ins().iadd_imm_s(reads, 1);
            let spins = self.b.ins().icmp_imm_s(
                IntCC::UnsignedGreaterThanOrEqual,
                counted,
                super::spin::LOCK_SPINS as i64,
            );
            let spins = self.b.ins().uextend(I64, spins);
            let yields = self.b.ins().band(repeat, spins);
            let out = self.b.create_block();
            let go = self.b.create_block();
            self.b.set_cold_block(out);
            self.b.ins().brif(yields, out, &[], go, &[]);
            self.b.switch_to_block(out);
            self.leave_at(pc, i);
            self.b.switch_to_block(go);
            let first = self.b.ins().uextend(I64, nonzero);
            let reads = self.b.ins().select(repeat, counted, first);
            let pcv = self.b.ins().iconst(I64, pc as i64);
            self.b.def_var(lock_pc, pcv);
            self.b.def_var(lock_value, old);
            self.b.def_var(lock_reads, reads);
        }
        let new = match inst.op {
            AmoswapW | AmoswapD => src,
            AmoaddW | AmoaddD => self.b.ins().iadd(old, src),
            AmoxorW | AmoxorD => self.b.ins().bxor(old, src),
            AmoandW | AmoandD => self.b.ins().band(old, src),
            AmoorW | AmoorD => self.b.ins().bor(old, src),
            AmominW | AmominD => self.b.ins().smin(old, src),
            AmomaxW | AmomaxD => self.b.ins().smax(old, src),
            // Word AMOs compare the 32-bit values; both are sign-extended alike, which keeps
            // their unsigned order.
            AmominuW | AmominuD => self.b.ins().umin(old, src),
            _ => self.b.ins().umax(old, src),
        };
        if word {
            self.b.ins().istore32(m, new, host, 0);
        } else {
            self.b.ins().store(m, new, host, 0);
        }
        self.set(inst.rd, old);
    }

    /// The integer ALU, as `execute::alu` (division by zero and overflow give the spec's
    /// results, never a host trap).
    fn alu(&mut self, op: Op, a: Value, b: Value, w: impl Fn(&mut Self, Value) -> Value) -> Value {
        let lo = |g: &mut Self, v: Value| g.b.ins().ireduce(I32, v);
        match op {
            Op::Add | Op::Addi => self.b.ins().iadd(a, b),
            Op::Sub => self.b.ins().isub(a, b),
            Op::Sll | Op::Slli => self.b.ins().ishl(a, b),
            Op::Srl | Op::Srli => self.b.ins().ushr(a, b),
            Op::Sra | Op::Srai => self.b.ins().sshr(a, b),
            Op::Slt | Op::Slti => {
                let c = self.b.ins().icmp(IntCC::SignedLessThan, a, b);
                self.b.ins().uextend(I64, c)
            }
            Op::Sltu | Op::Sltiu => {
                let c = self.b.ins().icmp(IntCC::UnsignedLessThan, a, b);
                self.b.ins().uextend(I64, c)
            }
            Op::Xor | Op::Xori => self.b.ins().bxor(a, b),
            Op::Or | Op::Ori => self.b.ins().bor(a, b),
            Op::And | Op::Andi => self.b.ins().band(a, b),
            Op::Addw | Op::Addiw => {
                let s = self.b.ins().iadd(a, b);
                w(self, s)
            }
            Op::Subw => {
                let s = self.b.ins().isub(a, b);
                w(self, s)
            }
            Op::Sllw | Op::Slliw | Op::Srlw | Op::Srliw | Op::Sraw | Op::Sraiw => {
                let a32 = lo(self, a);
                let b32 = lo(self, b);
                let r = match op {
                    Op::Sllw | Op::Slliw => self.b.ins().ishl(a32, b32),
                    Op::Srlw | Op::Srliw => self.b.ins().ushr(a32, b32),
                    _ => self.b.ins().sshr(a32, b32),
                };
                self.b.ins().sextend(I64, r)
            }
            Op::Mul => self.b.ins().imul(a, b),
            Op::Mulh => self.b.ins().smulhi(a, b),
            Op::Mulhu => self.b.ins().umulhi(a, b),
            Op::Mulhsu => {
                // mulhsu(a, b) = mulhu(a, b) - (a < 0 ? b : 0)
                let hu = self.b.ins().umulhi(a, b);
                let sign = self.b.ins().sshr_imm_s(a, 63);
                let fix = self.b.ins().band(sign, b);
                self.b.ins().isub(hu, fix)
            }
            Op::Mulw => {
                let p = self.b.ins().imul(a, b);
                w(self, p)
            }
            Op::Div | Op::Rem | Op::Divu | Op::Remu => self.divide(op, a, b, I64),
            Op::Divw | Op::Remw | Op::Divuw | Op::Remuw => {
                let a32 = lo(self, a);
                let b32 = lo(self, b);
                let r = self.divide(op, a32, b32, I32);
                self.b.ins().sextend(I64, r)
            }
            _ => self.b.ins().iconst(I64, 0),
        }
    }

    /// Division and remainder of width `ty` with RISC-V's results for a zero divisor (all
    /// ones; the dividend) and signed overflow (the dividend; zero), without host traps.
    fn divide(&mut self, op: Op, a: Value, b: Value, ty: cranelift_codegen::ir::Type) -> Value {
        let signed = matches!(op, Op::Div | Op::Rem | Op::Divw | Op::Remw);
        let rem = matches!(op, Op::Rem | Op::Remu | Op::Remw | Op::Remuw);
        let zero = self.b.ins().icmp_imm_s(IntCC::Equal, b, 0);
        let one = self.b.ins().iconst(ty, 1);
        let all_ones = self
            .b
            .ins()
            .iconst(ty, if ty == I32 { u32::MAX as i64 } else { -1 });
        // A divisor the host can use: 1 where the result is decided below.
        let (unsafe_div, minus_one) = if signed {
            let m1 = self.b.ins().icmp(IntCC::Equal, b, all_ones);
            (self.b.ins().bor(zero, m1), Some(m1))
        } else {
            (zero, None)
        };
        let d = self.b.ins().select(unsafe_div, one, b);
        let q = match (signed, rem) {
            (true, false) => self.b.ins().sdiv(a, d),
            (true, true) => self.b.ins().srem(a, d),
            (false, false) => self.b.ins().udiv(a, d),
            (false, true) => self.b.ins().urem(a, d),
        };
        // By -1: the quotient is -a (wrapping: MIN stays MIN), the remainder 0.
        let q = match minus_one {
            Some(m1) => {
                let by_m1 = if rem {
                    self.b.ins().iconst(ty, 0)
                } else {
                    self.b.ins().ineg(a)
                };
                self.b.ins().select(m1, by_m1, q)
            }
            None => q,
        };
        let by_zero = if rem { a } else { all_ones };
        self.b.ins().select(zero, by_zero, q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::RAM_BASE;
    use crate::cpu::encode::*;

    #[test]
    fn a_translation_is_found_again_by_its_code_bytes_alone() {
        let mut ram = Ram::new(1 << 16);
        // A loop; then a 32-bit instruction in a page's last
        // halfword (read no further: its second half is in the next page).
        let words = [addi(A0, A0, 1), bne(A0, A1, -4)];
        for (k, w) in words.iter().enumerate() {
            ram.write_phys(RAM_BASE + 0x100 + 4 * k as u64, &w.to_le_bytes())
                .unwrap();
        }
        let (_, read) = form_region(&ram, 0, RAM_BASE + 0x100, &|_| true);
        assert!(holds(&ram, 0, &read));
        // At another RAM page with the same bytes at the same offsets: the same code.
        let code = ram.bytes()[0x100..0x108].to_vec();
        ram.write_phys(RAM_BASE + 0x1100, &code).unwrap();
        assert!(holds(&ram, 0x1000, &read));
        // Bytes the region never read do not matter; one it read does.
        // (The region read the loop and the 16-bit halfword after it, where it stops.)
        ram.write_phys(RAM_BASE + 0x10a, &[0xff; 4]).unwrap();
        assert!(holds(&ram, 0, &read));
        ram.write_phys(RAM_BASE + 0x106, &[0x12]).unwrap();
        assert!(!holds(&ram, 0, &read));
        let last = addi(A0, A0, 1).to_le_bytes();
        ram.write_phys(RAM_BASE + 0x2ffe, &last[..2]).unwrap();
        let (_, read) = form_region(&ram, 0x2000, RAM_BASE + 0x2ffe, &|_| true);
        assert_eq!(read.len(), 4, "offset and first half only");
        assert!(holds(&ram, 0x2000, &read));
    }
}
