//! Kernel structures read through DWARF: the process table, per-CPU current process and
//! per-process open files, for MIT's C kernel and the Rust kernel from the same code.
//!
//! How: [`Types::for_vars`] finds each named global (`proc`, `cpus`, `ftable`, `itable`) as a
//! `DW_TAG_variable` that has a location (C's `extern` declarations have none), takes its
//! address from the ELF symbol table (or the `DW_OP_addr` location), and converts its type
//! graph into a small arena of [`Ty`] (base, pointer, struct, array, enum). A [`Val`] is an
//! address plus a type over a [`PhysMem`]; it reads fields by name, indexes arrays, follows
//! pointers and decodes enums by their enumerator names.
//!
//! Differences the reader absorbs:
//! - Field names: C `type`/`ref` are Rust `typ`/`refcnt`; lookups take a list of names.
//! - Wrappers: the Rust kernel wraps tables in `Shared<T>(UnsafeCell<T>)`, both
//!   `#[repr(transparent)]`. A struct whose only member sits at offset 0 with the struct's
//!   size is "peeled" when a field or an array is wanted and not found on the wrapper.
//! - Enumerators: C `SLEEPING`, `FD_PIPE` and Rust `Sleeping`, `FdPipe` print as `sleeping`,
//!   `pipe` ([`norm_enum`]).
//! - Array bounds: C gives `DW_AT_upper_bound`, Rust `DW_AT_count`.
//!
//! Addresses: xv6 maps kernel data at the same virtual and physical address (the direct map
//! from KERNBASE), so a kernel pointer is read as a physical address.
//!
//! Invariant: a field or table a kernel lacks reads as None and renders as a blank; a
//! corrupt pointer reads as None. Nothing here panics on guest data; type graphs are cyclic
//! (`proc.parent`) and are stored in an arena indexed by DIE, so conversion terminates.

use super::PhysMem;
use super::symbols::{Reader, Symbols};
use gimli::{AttributeValue, DwTag, constants as dw};
use std::collections::HashMap;

/// Index of a type in [`Types`].
pub type TyId = usize;

/// A type, simplified to what the views need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ty {
    /// Not (yet) known: a placeholder during conversion, or a kind the views do not read.
    Unknown {
        size: u64,
    },
    /// typedef, const, volatile...: the type they name.
    Alias(Option<TyId>),
    Base {
        size: u64,
        signed: bool,
    },
    Pointer(Option<TyId>),
    Struct {
        name: String,
        size: u64,
        members: Vec<Member>,
    },
    Array {
        elem: Option<TyId>,
        count: Option<u64>,
    },
    Enum {
        size: u64,
        variants: Vec<(String, i64)>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub offset: u64,
    pub ty: Option<TyId>,
}

/// A global variable found in DWARF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Var {
    pub addr: u64,
    pub ty: TyId,
}

/// Type arena and the globals found.
#[derive(Clone, Debug, Default)]
pub struct Types {
    pub types: Vec<Ty>,
    pub vars: HashMap<String, Var>,
}

/// Errors building [`Types`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DwarfError(pub String);

impl std::fmt::Display for DwarfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DwarfError {}

impl From<gimli::Error> for DwarfError {
    fn from(e: gimli::Error) -> Self {
        DwarfError(format!("DWARF: {e}"))
    }
}

type Unit = gimli::Unit<Reader>;

struct Builder<'a> {
    dwarf: &'a gimli::Dwarf<Reader>,
    types: Vec<Ty>,
    index: HashMap<(usize, usize), TyId>,
}

fn attr_u64(v: &AttributeValue<Reader>) -> Option<u64> {
    match v {
        AttributeValue::Udata(x) => Some(*x),
        AttributeValue::Data1(x) => Some(*x as u64),
        AttributeValue::Data2(x) => Some(*x as u64),
        AttributeValue::Data4(x) => Some(*x as u64),
        AttributeValue::Data8(x) => Some(*x),
        AttributeValue::Sdata(x) if *x >= 0 => Some(*x as u64),
        _ => None,
    }
}

fn attr_i64(v: &AttributeValue<Reader>) -> Option<i64> {
    match v {
        AttributeValue::Sdata(x) => Some(*x),
        other => attr_u64(other).map(|x| x as i64),
    }
}

impl Builder<'_> {
    fn name(&self, unit: &Unit, e: &gimli::DebuggingInformationEntry<Reader>) -> Option<String> {
        let v = e.attr_value(dw::DW_AT_name)?;
        let s = self.dwarf.attr_string(unit, v).ok()?;
        use gimli::Reader as _;
        Some(s.to_string_lossy().ok()?.into_owned())
    }

    fn type_ref(
        &mut self,
        units: &[Unit],
        u: usize,
        e: &gimli::DebuggingInformationEntry<Reader>,
    ) -> Option<TyId> {
        match e.attr_value(dw::DW_AT_type)? {
            AttributeValue::UnitRef(off) => Some(self.convert(units, u, off)),
            AttributeValue::DebugInfoRef(off) => {
                // A reference into another unit (rare): find the unit that holds it.
                let (ui, unit) = units.iter().enumerate().find(|(_, un)| {
                    un.header
                        .offset()
                        .to_debug_info_offset(&un.header)
                        .is_some_and(|start| {
                            off.0 >= start.0 && off.0 < start.0 + un.header.length_including_self()
                        })
                })?;
                let local = off.to_unit_offset(&unit.header)?;
                Some(self.convert(units, ui, local))
            }
            _ => None,
        }
    }

    fn convert(&mut self, units: &[Unit], u: usize, off: gimli::UnitOffset) -> TyId {
        if let Some(id) = self.index.get(&(u, off.0)) {
            return *id;
        }
        let id = self.types.len();
        self.types.push(Ty::Unknown { size: 0 });
        self.index.insert((u, off.0), id);
        let ty = self
            .convert_die(units, u, off)
            .unwrap_or(Ty::Unknown { size: 0 });
        self.types[id] = ty;
        id
    }

    fn convert_die(&mut self, units: &[Unit], u: usize, off: gimli::UnitOffset) -> Option<Ty> {
        let unit = &units[u];
        let e = unit.entry(off).ok()?;
        let size = e
            .attr_value(dw::DW_AT_byte_size)
            .as_ref()
            .and_then(attr_u64);
        let tag: DwTag = e.tag();
        Some(match tag {
            dw::DW_TAG_base_type => {
                let enc = e.attr_value(dw::DW_AT_encoding);
                let signed = matches!(enc, Some(AttributeValue::Encoding(x))
                    if x == dw::DW_ATE_signed || x == dw::DW_ATE_signed_char);
                Ty::Base {
                    size: size.unwrap_or(0),
                    signed,
                }
            }
            dw::DW_TAG_typedef
            | dw::DW_TAG_const_type
            | dw::DW_TAG_volatile_type
            | dw::DW_TAG_restrict_type
            | dw::DW_TAG_atomic_type => Ty::Alias(self.type_ref(units, u, &e)),
            dw::DW_TAG_pointer_type | dw::DW_TAG_reference_type => {
                Ty::Pointer(self.type_ref(units, u, &e))
            }
            dw::DW_TAG_structure_type | dw::DW_TAG_union_type | dw::DW_TAG_class_type => {
                let name = self.name(unit, &e).unwrap_or_default();
                let mut members = Vec::new();
                let mut tree = unit.entries_tree(Some(off)).ok()?;
                let root = tree.root().ok()?;
                let mut children = root.children();
                while let Ok(Some(child)) = children.next() {
                    let c = child.entry();
                    if c.tag() != dw::DW_TAG_member {
                        continue;
                    }
                    let offset = c
                        .attr_value(dw::DW_AT_data_member_location)
                        .as_ref()
                        .and_then(member_location)
                        .unwrap_or(0);
                    let mname = self.name(unit, c).unwrap_or_default();
                    members.push((mname, offset, c.offset()));
                }
                let members = members
                    .into_iter()
                    .map(|(name, offset, coff)| {
                        let ty = units[u]
                            .entry(coff)
                            .ok()
                            .and_then(|c| self.type_ref(units, u, &c));
                        Member { name, offset, ty }
                    })
                    .collect();
                Ty::Struct {
                    name,
                    size: size.unwrap_or(0),
                    members,
                }
            }
            dw::DW_TAG_array_type => {
                let elem = self.type_ref(units, u, &e);
                let mut counts = Vec::new();
                let mut tree = unit.entries_tree(Some(off)).ok()?;
                let root = tree.root().ok()?;
                let mut children = root.children();
                while let Ok(Some(child)) = children.next() {
                    let c = child.entry();
                    if c.tag() != dw::DW_TAG_subrange_type {
                        continue;
                    }
                    let count = c
                        .attr_value(dw::DW_AT_count)
                        .as_ref()
                        .and_then(attr_u64)
                        .or_else(|| {
                            let ub = c.attr_value(dw::DW_AT_upper_bound);
                            ub.as_ref().and_then(attr_u64).map(|b| b + 1)
                        });
                    counts.push(count);
                }
                // `T a[N][M]` is an array of N arrays of M: build from the innermost out.
                let mut ty = Ty::Array {
                    elem,
                    count: counts.pop().flatten(),
                };
                while let Some(c) = counts.pop() {
                    let inner = self.types.len();
                    self.types.push(ty);
                    ty = Ty::Array {
                        elem: Some(inner),
                        count: c,
                    };
                }
                ty
            }
            dw::DW_TAG_enumeration_type => {
                let mut variants = Vec::new();
                let mut tree = unit.entries_tree(Some(off)).ok()?;
                let root = tree.root().ok()?;
                let mut children = root.children();
                while let Ok(Some(child)) = children.next() {
                    let c = child.entry();
                    if c.tag() != dw::DW_TAG_enumerator {
                        continue;
                    }
                    let v = c
                        .attr_value(dw::DW_AT_const_value)
                        .as_ref()
                        .and_then(attr_i64);
                    if let (Some(n), Some(v)) = (self.name(unit, c), v) {
                        variants.push((n, v));
                    }
                }
                Ty::Enum {
                    size: size.unwrap_or(4),
                    variants,
                }
            }
            _ => Ty::Unknown {
                size: size.unwrap_or(0),
            },
        })
    }
}

/// A member's offset: a constant, or (older DWARF, as MIT's gcc emits) an expression
/// `DW_OP_plus_uconst N`.
fn member_location(v: &AttributeValue<Reader>) -> Option<u64> {
    use gimli::Reader as _;
    let mut r = match v {
        AttributeValue::Exprloc(e) => e.0.clone(),
        AttributeValue::Block(b) => b.clone(),
        other => return attr_u64(other),
    };
    if r.read_u8().ok()? != dw::DW_OP_plus_uconst.0 {
        return None;
    }
    r.read_uleb128().ok()
}

/// `DW_OP_addr A` as a location: the address A.
fn location_addr(v: &AttributeValue<Reader>) -> Option<u64> {
    use gimli::Reader as _;
    let AttributeValue::Exprloc(expr) = v else {
        return None;
    };
    let mut r = expr.0.clone();
    if r.read_u8().ok()? != dw::DW_OP_addr.0 {
        return None;
    }
    r.read_u64().ok()
}

impl Types {
    /// Finds the global variables `names` in `syms`'s DWARF and converts their types.
    /// Variables not found are simply absent from [`Types::vars`].
    pub fn for_vars(syms: &Symbols, names: &[&str]) -> Result<Types, DwarfError> {
        Types::for_vars_where(syms, |n| names.contains(&n))
    }

    /// Finds every global variable whose name `wanted` accepts (the first definition of each
    /// name), for tables whose names vary between kernels (the cow lab's reference counts).
    pub fn for_vars_where(
        syms: &Symbols,
        wanted: impl Fn(&str) -> bool,
    ) -> Result<Types, DwarfError> {
        let dwarf = syms
            .dwarf()
            .ok_or_else(|| DwarfError(format!("{}: no DWARF", syms.name)))?;
        let mut units = Vec::new();
        let mut it = dwarf.units();
        while let Some(h) = it.next()? {
            units.push(dwarf.unit(h)?);
        }
        let mut b = Builder {
            dwarf,
            types: Vec::new(),
            index: HashMap::new(),
        };
        let mut vars = HashMap::new();
        for (u, unit) in units.iter().enumerate() {
            let mut entries = unit.entries();
            while let Some(e) = entries.next_dfs()? {
                if e.tag() != dw::DW_TAG_variable {
                    continue;
                }
                let Some(loc) = e.attr_value(dw::DW_AT_location) else {
                    continue; // a declaration
                };
                // A definition of something declared `extern` (C's `cpus`) names its
                // declaration with DW_AT_specification, which carries the name and type.
                let decl = match e.attr_value(dw::DW_AT_specification) {
                    Some(AttributeValue::UnitRef(o)) => unit.entry(o).ok(),
                    _ => None,
                };
                let e = match (b.name(unit, e), decl) {
                    (Some(_), _) | (None, None) => e.clone(),
                    (None, Some(d)) => d,
                };
                let Some(name) = b.name(unit, &e) else {
                    continue;
                };
                if !wanted(&name) || vars.contains_key(&name) {
                    continue;
                }
                let addr = syms
                    .lookup(&name)
                    .filter(|s| !s.is_function)
                    .map(|s| s.addr)
                    .or_else(|| location_addr(&loc));
                if let (Some(addr), Some(ty)) = (addr, b.type_ref(&units, u, &e)) {
                    vars.insert(name, Var { addr, ty });
                }
            }
        }
        Ok(Types {
            types: b.types,
            vars,
        })
    }

    /// Follows aliases to the real type.
    pub fn resolve(&self, mut id: TyId) -> Option<&Ty> {
        for _ in 0..32 {
            match self.types.get(id)? {
                Ty::Alias(Some(t)) => id = *t,
                Ty::Alias(None) => return None,
                t => return Some(t),
            }
        }
        None
    }

    fn resolve_id(&self, mut id: TyId) -> TyId {
        for _ in 0..32 {
            match self.types.get(id) {
                Some(Ty::Alias(Some(t))) => id = *t,
                _ => return id,
            }
        }
        id
    }

    /// Size in bytes. Arrays of arrays multiply out, innermost first; their nesting is
    /// bounded like alias chains, since a corrupt DWARF can make an array its own element
    /// (fuzzing found one: the recursion this replaced overflowed the stack).
    pub fn size(&self, id: TyId) -> Option<u64> {
        let mut counts = Vec::new();
        let mut id = id;
        for _ in 0..32 {
            let leaf = match self.resolve(id)? {
                Ty::Unknown { size }
                | Ty::Base { size, .. }
                | Ty::Struct { size, .. }
                | Ty::Enum { size, .. } => *size,
                Ty::Pointer(_) => 8,
                Ty::Array { elem, count } => {
                    counts.push((*count)?);
                    id = (*elem)?;
                    continue;
                }
                Ty::Alias(_) => return None,
            };
            return counts.iter().rev().try_fold(leaf, |s, &c| s.checked_mul(c));
        }
        None
    }

    /// The wrapped type if `id` is a one-member struct whose member is at offset 0 and as big
    /// as the struct (`#[repr(transparent)]` wrappers such as `UnsafeCell<T>`).
    fn peel(&self, id: TyId) -> Option<TyId> {
        let Ty::Struct { size, members, .. } = self.resolve(id)? else {
            return None;
        };
        match members.as_slice() {
            [m] if m.offset == 0 && self.size(m.ty?) == Some(*size) => m.ty,
            _ => None,
        }
    }

    /// The size of the integer type `id` is (looking through aliases and wrappers).
    fn int_size(&self, mut id: TyId) -> Option<u64> {
        for _ in 0..8 {
            match self.resolve(id)? {
                Ty::Base { size, .. } => return Some(*size),
                Ty::Struct { .. } => id = self.peel(id)?,
                _ => return None,
            }
        }
        None
    }

    /// A view of global `name` over `mem`.
    pub fn var<'a>(&'a self, mem: &'a dyn PhysMem, name: &str) -> Option<Val<'a>> {
        let v = self.vars.get(name)?;
        Some(Val {
            t: self,
            mem,
            addr: v.addr,
            ty: v.ty,
        })
    }
}

/// The kind of a value, as [`Val::shape`] sees it (wrappers looked through).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Int {
        size: u64,
        signed: bool,
    },
    Enum,
    /// A pointer; `to_int` is the size of the integer it points to (C's `pagetable_t` is a
    /// `uint64 *`), `to_struct` whether it points to a struct.
    Pointer {
        to_int: Option<u64>,
        to_struct: bool,
    },
    Array,
    Struct,
    Other,
}

/// A typed location in guest memory.
#[derive(Clone, Copy)]
pub struct Val<'a> {
    pub t: &'a Types,
    pub mem: &'a dyn PhysMem,
    pub addr: u64,
    pub ty: TyId,
}

impl std::fmt::Debug for Val<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Val({:#x}: {:?})", self.addr, self.t.resolve(self.ty))
    }
}

impl<'a> Val<'a> {
    fn at(&self, addr: u64, ty: TyId) -> Val<'a> {
        Val { addr, ty, ..*self }
    }

    /// The first of `names` that is a member (looking through transparent wrappers).
    pub fn field(&self, names: &[&str]) -> Option<Val<'a>> {
        let mut v = *self;
        for _ in 0..8 {
            if let Some(Ty::Struct { members, .. }) = self.t.resolve(v.ty) {
                for n in names {
                    if let Some(m) = members.iter().find(|m| m.name == *n) {
                        return Some(v.at(v.addr + m.offset, m.ty?));
                    }
                }
            }
            v = v.at(v.addr, self.t.peel(v.ty)?);
        }
        None
    }

    /// The array this value is (looking through wrappers): element type and count.
    fn array(&self) -> Option<(Val<'a>, TyId, u64)> {
        let mut v = *self;
        for _ in 0..8 {
            if let Some(Ty::Array { elem, count }) = self.t.resolve(v.ty) {
                return Some((v, (*elem)?, (*count)?));
            }
            v = v.at(v.addr, self.t.peel(v.ty)?);
        }
        None
    }

    /// Number of elements, for an array (None for anything else, never "empty").
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> Option<u64> {
        self.array().map(|a| a.2)
    }

    /// Element `i` of an array.
    pub fn index(&self, i: u64) -> Option<Val<'a>> {
        let (v, elem, count) = self.array()?;
        if i >= count {
            return None;
        }
        let stride = self.t.size(elem)?;
        Some(v.at(v.addr + i * stride, elem))
    }

    /// Size of one element, for an array.
    pub fn stride(&self) -> Option<u64> {
        let (_, elem, _) = self.array()?;
        self.t.size(elem)
    }

    fn scalar(&self) -> Option<(u64, bool)> {
        let mut id = self.t.resolve_id(self.ty);
        for _ in 0..8 {
            match self.t.types.get(id)? {
                Ty::Base { size, signed } => return Some((*size, *signed)),
                Ty::Enum { size, .. } => return Some((*size, false)),
                Ty::Pointer(_) => return Some((8, false)),
                _ => id = self.t.resolve_id(self.t.peel(id)?),
            }
        }
        None
    }

    /// The value as an integer (integers, enums, pointers; wrappers looked through).
    pub fn int(&self) -> Option<i64> {
        let (size, signed) = self.scalar()?;
        if !(1..=8).contains(&size) {
            return None;
        }
        let mut b = [0u8; 8];
        if !self.mem.read_phys(self.addr, &mut b[..size as usize]) {
            return None;
        }
        let raw = u64::from_le_bytes(b);
        let shift = 64 - 8 * size as u32;
        Some(if signed {
            ((raw << shift) as i64) >> shift
        } else {
            raw as i64
        })
    }

    /// The value as an unsigned integer.
    pub fn uint(&self) -> Option<u64> {
        self.int().map(|v| v as u64)
    }

    /// The enumerator's name, normalised by [`norm_enum`]; the number if it has no name.
    pub fn enum_name(&self) -> Option<String> {
        let v = self.int()?;
        let mut id = self.ty;
        for _ in 0..8 {
            if let Some(Ty::Enum { variants, .. }) = self.t.resolve(id) {
                return Some(match variants.iter().find(|(_, x)| *x == v) {
                    Some((n, _)) => norm_enum(n),
                    None => v.to_string(),
                });
            }
            id = self.t.peel(id)?;
        }
        None
    }

    /// A byte array read as a NUL-terminated string (`char name[16]`).
    pub fn cstring(&self) -> Option<String> {
        let n = self.len()?.min(256) as usize;
        let mut b = vec![0u8; n];
        if !self.mem.read_phys(self.array()?.0.addr, &mut b) {
            return None;
        }
        let end = b.iter().position(|&c| c == 0).unwrap_or(n);
        Some(String::from_utf8_lossy(&b[..end]).into_owned())
    }

    /// The members of a struct (looking through transparent wrappers), in offset order, by
    /// name; empty for anything else.
    pub fn members(&self) -> Vec<(&'a str, Val<'a>)> {
        // The first struct with more than one member, else the outermost struct: a
        // one-member struct may be a wrapper or a real struct (`struct usyscall { int pid; }`).
        let mut v = *self;
        let mut found: Option<(Val<'a>, &'a Vec<Member>)> = None;
        for _ in 0..8 {
            if let Some(Ty::Struct { members, .. }) = self.t.resolve(v.ty) {
                if found.is_none() || members.len() > 1 {
                    found = Some((v, members));
                }
                if members.len() > 1 {
                    break;
                }
            }
            match self.t.peel(v.ty) {
                Some(inner) => v = v.at(v.addr, inner),
                None => break,
            }
        }
        let Some((v, members)) = found else {
            return Vec::new();
        };
        let mut out: Vec<(&'a str, Val<'a>)> = members
            .iter()
            .filter_map(|m| Some((m.name.as_str(), v.at(v.addr + m.offset, m.ty?))))
            .collect();
        out.sort_by_key(|(_, m)| m.addr);
        out
    }

    /// What kind of value this is, for views that match fields by shape rather than name.
    pub fn shape(&self) -> Shape {
        let mut id = self.ty;
        for _ in 0..8 {
            match self.t.resolve(id) {
                Some(Ty::Base { size, signed }) => {
                    return Shape::Int {
                        size: *size,
                        signed: *signed,
                    };
                }
                Some(Ty::Enum { .. }) => return Shape::Enum,
                Some(Ty::Pointer(target)) => {
                    // Not through `shape` of the target: a type may point to itself through
                    // a one-member wrapper (C's `struct run { struct run *next; }`).
                    return Shape::Pointer {
                        to_int: target.and_then(|t| self.t.int_size(t)),
                        to_struct: target.is_some_and(|t| {
                            matches!(self.t.resolve(t), Some(Ty::Struct { members, .. }) if !members.is_empty())
                        }),
                    };
                }
                Some(Ty::Array { .. }) => return Shape::Array,
                Some(Ty::Struct { .. }) => match self.t.peel(id) {
                    Some(inner) => id = inner,
                    None => return Shape::Struct,
                },
                _ => return Shape::Other,
            }
        }
        Shape::Other
    }

    /// The value a pointer points to; None for null or a pointer to an unknown type.
    pub fn deref(&self) -> Option<Val<'a>> {
        let p = self.uint()?;
        if p == 0 {
            return None;
        }
        self.pointee_at(p)
    }

    /// What a pointer points to, placed at `p` whatever the pointer holds (for the type of a
    /// null pointer's target).
    pub fn pointee_at(&self, p: u64) -> Option<Val<'a>> {
        let mut id = self.ty;
        for _ in 0..8 {
            if let Some(Ty::Pointer(target)) = self.t.resolve(id) {
                return Some(self.at(p, (*target)?));
            }
            id = self.t.peel(id)?;
        }
        None
    }
}

/// `SLEEPING`, `Sleeping`, `FD_PIPE`, `FdPipe` → `sleeping`, `sleeping`, `pipe`, `pipe`.
pub fn norm_enum(n: &str) -> String {
    let lower = n.to_ascii_lowercase();
    for p in ["fd_", "fd"] {
        if let Some(rest) = lower.strip_prefix(p)
            && !rest.is_empty()
        {
            return rest.to_string();
        }
    }
    lower
}

#[cfg(test)]
#[path = "dwarf_tests.rs"]
mod tests;
