//! Clarity values and type signatures, their literal syntax and the consensus serialization.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::sync::Arc;

use super::c32;

/// An identifier (function, variable, map, tuple field, …).
pub type Name = Arc<str>;

/// Largest serialized size of any value (bytes), as in Clarity.
pub const MAX_VALUE_SIZE: u64 = 1 << 20;
/// Deepest nesting of types and values.
pub const MAX_TYPE_DEPTH: u32 = 32;
/// Longest contract name.
pub const MAX_CONTRACT_NAME: usize = 40;

/// A standard principal: address version and HASH160.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StandardPrincipal {
    pub version: u8,
    pub hash: [u8; 20],
}

impl StandardPrincipal {
    pub fn to_address(&self) -> String {
        c32::address_encode(self.version, &self.hash)
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let (version, hash) = c32::address_decode(text)?;
        Ok(StandardPrincipal { version, hash })
    }
}

/// A principal: a standard account or a contract (`issuer.name`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Principal {
    Standard(StandardPrincipal),
    Contract(StandardPrincipal, Name),
}

/// True when `name` is a valid contract name.
pub fn valid_contract_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_CONTRACT_NAME
        && b[0].is_ascii_alphabetic()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')
}

impl Principal {
    /// Parses `SP…` or `SP….name` (no leading quote).
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.split_once('.') {
            None => Ok(Principal::Standard(StandardPrincipal::parse(text)?)),
            Some((addr, name)) => {
                if !valid_contract_name(name) {
                    return Err(format!("invalid contract name {name:?}"));
                }
                Ok(Principal::Contract(
                    StandardPrincipal::parse(addr)?,
                    name.into(),
                ))
            }
        }
    }

    pub fn issuer(&self) -> &StandardPrincipal {
        match self {
            Principal::Standard(p) | Principal::Contract(p, _) => p,
        }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.issuer();
        c32::with_address(p.version, &p.hash, |a| f.write_str(a))?;
        if let Principal::Contract(_, n) = self {
            f.write_str(".")?;
            f.write_str(n)?;
        }
        Ok(())
    }
}

/// A trait's identity: the defining contract and the trait's name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TraitId {
    pub contract: Principal,
    pub name: Name,
}

impl fmt::Display for TraitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.contract, self.name)
    }
}

/// A Clarity type signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    /// The type of an expression whose type is not yet known (`none`, `(list)`, the other
    /// side of `(ok 1)`); it is admitted anywhere.
    NoType,
    Int,
    UInt,
    Bool,
    Principal,
    Buff(u32),
    Ascii(u32),
    Utf8(u32),
    List(Box<Type>, u32),
    Tuple(BTreeMap<Name, Type>),
    Optional(Box<Type>),
    Response(Box<Type>, Box<Type>),
    /// A contract principal that implements the trait.
    Trait(TraitId),
}

impl Type {
    pub fn list(elem: Type, len: u32) -> Type {
        Type::List(Box::new(elem), len)
    }
    pub fn optional(t: Type) -> Type {
        Type::Optional(Box::new(t))
    }
    pub fn response(ok: Type, err: Type) -> Type {
        Type::Response(Box::new(ok), Box::new(err))
    }

    /// Does a trait reference appear anywhere in this type?
    pub fn has_trait(&self) -> bool {
        match self {
            Type::Trait(_) => true,
            Type::List(t, _) | Type::Optional(t) => t.has_trait(),
            Type::Response(a, b) => a.has_trait() || b.has_trait(),
            Type::Tuple(m) => m.values().any(Type::has_trait),
            _ => false,
        }
    }

    /// The same type with every trait reference read as `principal` (the type of the value).
    pub fn without_traits(&self) -> Type {
        match self {
            Type::Trait(_) => Type::Principal,
            Type::List(t, n) => Type::list(t.without_traits(), *n),
            Type::Optional(t) => Type::optional(t.without_traits()),
            Type::Response(a, b) => Type::response(a.without_traits(), b.without_traits()),
            Type::Tuple(m) => Type::Tuple(
                m.iter()
                    .map(|(k, t)| (k.clone(), t.without_traits()))
                    .collect(),
            ),
            t => t.clone(),
        }
    }

    /// Largest serialized size of a value of this type.
    pub fn max_size(&self) -> u64 {
        match self {
            Type::NoType | Type::Bool => 1,
            Type::Int | Type::UInt => 17,
            Type::Principal | Type::Trait(_) => 63,
            Type::Buff(n) | Type::Ascii(n) => 5 + u64::from(*n),
            Type::Utf8(n) => 5 + 4 * u64::from(*n),
            Type::List(t, n) => 5u64.saturating_add(t.max_size().saturating_mul(u64::from(*n))),
            Type::Tuple(m) => m.iter().fold(5u64, |acc, (k, t)| {
                acc.saturating_add(1 + k.len() as u64)
                    .saturating_add(t.max_size())
            }),
            Type::Optional(t) => 1 + t.max_size(),
            Type::Response(a, b) => 1 + a.max_size().max(b.max_size()),
        }
    }

    /// Every buffer and string inside within its length limit (the reference checks each
    /// when it parses it).
    fn lengths_fit(&self) -> bool {
        match self {
            Type::Buff(n) | Type::Ascii(n) => u64::from(*n) <= MAX_VALUE_SIZE,
            Type::Utf8(n) => u64::from(*n) <= MAX_VALUE_SIZE / 4,
            Type::List(t, _) | Type::Optional(t) => t.lengths_fit(),
            Type::Response(a, b) => a.lengths_fit() && b.lengths_fit(),
            Type::Tuple(m) => m.values().all(Type::lengths_fit),
            _ => true,
        }
    }

    pub fn depth(&self) -> u32 {
        match self {
            Type::List(t, _) | Type::Optional(t) => 1 + t.depth(),
            Type::Response(a, b) => 1 + a.depth().max(b.depth()),
            Type::Tuple(m) => 1 + m.values().map(Type::depth).max().unwrap_or(0),
            _ => 1,
        }
    }

    /// The size the reference gives a value of this type (`TypeSignature::size`,
    /// clarity-types/src/types/signatures.rs: int 16, principal 148, a buffer or string its
    /// length + 4, a wrapper 1 more than its content, a list or tuple its contents plus its
    /// type's size), or None where the reference refuses to build the type: a list, tuple,
    /// optional or response over [`MAX_VALUE_SIZE`].
    pub fn ref_size(&self) -> Option<u64> {
        let size = match self {
            Type::NoType | Type::Bool => 1,
            Type::Int | Type::UInt => 16,
            Type::Principal => 148,
            Type::Trait(_) => 276,
            Type::Buff(n) | Type::Ascii(n) => 4 + u64::from(*n),
            Type::Utf8(n) => 4 + 4 * u64::from(*n),
            Type::List(t, n) => {
                let total = t.ref_size()? * u64::from(*n) + self.ref_type_size()?;
                return (total <= MAX_VALUE_SIZE).then_some(total);
            }
            Type::Tuple(m) => {
                let mut total = 2 * m.len() as u64 + self.ref_type_size()?;
                for (k, t) in m {
                    total += t.ref_size()? + k.len() as u64;
                }
                return (total <= MAX_VALUE_SIZE).then_some(total);
            }
            Type::Optional(t) => 1 + t.ref_size()?,
            Type::Response(a, b) => 1 + a.ref_size()?.max(b.ref_size()?),
        };
        let compound = matches!(self, Type::Optional(_) | Type::Response(..));
        (!compound || size <= MAX_VALUE_SIZE).then_some(size)
    }

    /// The size of the type itself in the reference's model (`inner_type_size`).
    fn ref_type_size(&self) -> Option<u64> {
        let size = match self {
            Type::NoType | Type::Int | Type::UInt | Type::Bool | Type::Principal => 1,
            Type::Trait(_) => 1,
            Type::Buff(_) | Type::Ascii(_) | Type::Utf8(_) => 5,
            Type::List(t, _) => t.ref_type_size()? + 5,
            Type::Tuple(m) => {
                let mut total = 2 * m.len() as u64;
                for (k, t) in m {
                    total += t.ref_type_size()? + k.len() as u64;
                }
                total
            }
            Type::Optional(t) => t.ref_type_size()? + 1,
            Type::Response(a, b) => a.ref_type_size()? + b.ref_type_size()? + 1,
        };
        (size <= MAX_VALUE_SIZE).then_some(size)
    }

    /// Checks the size and depth limits, as the reference does when it builds a type: a
    /// buffer or string-ascii at most [`MAX_VALUE_SIZE`] long, a string-utf8 at most a
    /// quarter of that, and [`Type::ref_size`] defined for compounds.
    pub fn check_limits(&self) -> Result<(), String> {
        if self.depth() > MAX_TYPE_DEPTH {
            return Err(format!("type nested deeper than {MAX_TYPE_DEPTH}"));
        }
        let fits = match self {
            Type::Buff(n) | Type::Ascii(n) => u64::from(*n) <= MAX_VALUE_SIZE,
            Type::Utf8(n) => u64::from(*n) <= MAX_VALUE_SIZE / 4,
            t => t.ref_size().is_some() && t.lengths_fit(),
        };
        if !fits {
            return Err(format!(
                "type {self} can hold values larger than the limit of {MAX_VALUE_SIZE} bytes"
            ));
        }
        Ok(())
    }

    /// Does a value of type `actual` fit where `self` is expected?
    pub fn admits(&self, actual: &Type) -> bool {
        match (self, actual) {
            (_, Type::NoType) => true,
            (Type::Buff(a), Type::Buff(b))
            | (Type::Ascii(a), Type::Ascii(b))
            | (Type::Utf8(a), Type::Utf8(b)) => b <= a,
            (Type::List(te, a), Type::List(ae, b)) => {
                b <= a && (*b == 0 || **ae == Type::NoType || te.admits(ae))
            }
            (Type::Tuple(a), Type::Tuple(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b.iter())
                        .all(|((ka, ta), (kb, tb))| ka == kb && ta.admits(tb))
            }
            (Type::Optional(a), Type::Optional(b)) => a.admits(b),
            (Type::Response(a1, a2), Type::Response(b1, b2)) => a1.admits(b1) && a2.admits(b2),
            // A trait reference is not a principal: the reference refuses one where a
            // principal is expected (its `upcast-trait-*` tests; `contract-of` converts).
            (a, b) => a == b,
        }
    }

    /// The least type that admits both, if any.
    pub fn union(a: &Type, b: &Type) -> Option<Type> {
        Type::supertype(a, b, false)
    }

    /// The supertype `default-to` gives `(default-to a (some b))`: the reference computes it
    /// with its 2.1 rule, under which a tuple `a` whose fields all appear in tuple `b` (with
    /// compatible types) yields `a`'s fields only, extra fields of `b` being dropped (the
    /// reference's `least_supertype_v2_1`, read in clarity-types/src/types/signatures.rs).
    /// Arkadiko's vault rewards do `(get f (default-to {f: u0} (map-get? m k)))`. `append`
    /// (list entry, element) and `is-eq` (each argument, the type so far) use it too, in
    /// the reference's order of arguments.
    pub fn union_default_to(a: &Type, b: &Type) -> Option<Type> {
        Type::supertype(a, b, true)
    }

    fn supertype(a: &Type, b: &Type, subset: bool) -> Option<Type> {
        Some(match (a, b) {
            (Type::NoType, x) | (x, Type::NoType) => x.clone(),
            (Type::Buff(x), Type::Buff(y)) => Type::Buff(*x.max(y)),
            (Type::Ascii(x), Type::Ascii(y)) => Type::Ascii(*x.max(y)),
            (Type::Utf8(x), Type::Utf8(y)) => Type::Utf8(*x.max(y)),
            (Type::List(e1, n1), Type::List(e2, n2)) => {
                Type::list(Type::supertype(e1, e2, subset)?, *n1.max(n2))
            }
            (Type::Tuple(m1), Type::Tuple(m2)) if subset => {
                let mut out = BTreeMap::new();
                for (k, t1) in m1 {
                    out.insert(k.clone(), Type::supertype(t1, m2.get(k)?, subset)?);
                }
                Type::Tuple(out)
            }
            (Type::Tuple(m1), Type::Tuple(m2)) => {
                if m1.len() != m2.len() {
                    return None;
                }
                let mut out = BTreeMap::new();
                for ((k1, t1), (k2, t2)) in m1.iter().zip(m2.iter()) {
                    if k1 != k2 {
                        return None;
                    }
                    out.insert(k1.clone(), Type::supertype(t1, t2, subset)?);
                }
                Type::Tuple(out)
            }
            (Type::Optional(x), Type::Optional(y)) => {
                Type::optional(Type::supertype(x, y, subset)?)
            }
            (Type::Response(a1, a2), Type::Response(b1, b2)) => Type::response(
                Type::supertype(a1, b1, subset)?,
                Type::supertype(a2, b2, subset)?,
            ),
            (Type::Trait(_), Type::Principal) | (Type::Principal, Type::Trait(_)) => {
                Type::Principal
            }
            (x, y) if x == y => x.clone(),
            _ => return None,
        })
    }

    /// Does `v` have this type (sizes included)?
    pub fn admits_value(&self, v: &Value) -> bool {
        match (self, v) {
            (Type::Int, Value::Int(_))
            | (Type::UInt, Value::UInt(_))
            | (Type::Bool, Value::Bool(_))
            | (Type::Principal, Value::Principal(_)) => true,
            (Type::Trait(_), Value::Principal(Principal::Contract(..))) => true,
            (Type::Buff(n), Value::Buff(b)) => b.len() as u64 <= u64::from(*n),
            (Type::Ascii(n), Value::Ascii(b)) => b.len() as u64 <= u64::from(*n),
            (Type::Utf8(n), Value::Utf8(s)) => s.len() as u64 <= u64::from(*n),
            (Type::List(t, n), Value::List(items)) => {
                items.len() as u64 <= u64::from(*n) && items.iter().all(|i| t.admits_value(i))
            }
            (Type::Tuple(m), Value::Tuple(fields)) => {
                m.len() == fields.len()
                    && m.iter()
                        .zip(fields.iter())
                        .all(|((k1, t), (k2, v))| k1 == k2 && t.admits_value(v))
            }
            (Type::Optional(t), Value::Optional(o)) => o.as_ref().is_none_or(|v| t.admits_value(v)),
            (Type::Response(a, b), Value::Response(ok, v)) => {
                if *ok {
                    a.admits_value(v)
                } else {
                    b.admits_value(v)
                }
            }
            _ => false,
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // A part whose type is not known (the other side of `(ok 1)`, the element of
            // `(list)`): written `none`, as contract interfaces write it.
            Type::NoType => f.write_str("none"),
            Type::Int => f.write_str("int"),
            Type::UInt => f.write_str("uint"),
            Type::Bool => f.write_str("bool"),
            Type::Principal => f.write_str("principal"),
            Type::Buff(n) => write!(f, "(buff {n})"),
            Type::Ascii(n) => write!(f, "(string-ascii {n})"),
            Type::Utf8(n) => write!(f, "(string-utf8 {n})"),
            Type::List(t, n) => write!(f, "(list {n} {t})"),
            Type::Tuple(m) => {
                f.write_str("(tuple")?;
                for (k, t) in m {
                    write!(f, " ({k} {t})")?;
                }
                f.write_str(")")
            }
            Type::Optional(t) => write!(f, "(optional {t})"),
            Type::Response(a, b) => write!(f, "(response {a} {b})"),
            Type::Trait(t) => write!(f, "<{t}>"),
        }
    }
}

/// A Clarity value.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Value {
    Int(i128),
    UInt(u128),
    Bool(bool),
    Principal(Principal),
    Buff(Vec<u8>),
    Ascii(Vec<u8>),
    Utf8(Vec<char>),
    List(Vec<Value>),
    Tuple(BTreeMap<Name, Value>),
    Optional(Option<Box<Value>>),
    Response(bool, Box<Value>),
}

/// Numbers, booleans, standard principals and `none` (what locals, arguments and keys
/// mostly hold) are copied inline; the other values take the general clone.
impl Clone for Value {
    #[inline]
    fn clone(&self) -> Self {
        match self {
            Value::Int(i) => Value::Int(*i),
            Value::UInt(u) => Value::UInt(*u),
            Value::Bool(b) => Value::Bool(*b),
            Value::Optional(None) => Value::Optional(None),
            Value::Principal(Principal::Standard(p)) => {
                Value::Principal(Principal::Standard(p.clone()))
            }
            _ => self.clone_general(),
        }
    }
}

impl Value {
    /// Drops a value, skipping the drop glue for those that own no memory (numbers,
    /// booleans, standard principals, `none`).
    #[inline]
    pub fn discard(self) {
        if matches!(
            self,
            Value::Int(_)
                | Value::UInt(_)
                | Value::Bool(_)
                | Value::Principal(Principal::Standard(_))
                | Value::Optional(None)
        ) {
            std::mem::forget(self);
        } else {
            drop(self);
        }
    }

    #[inline(never)]
    fn clone_general(&self) -> Value {
        match self {
            Value::Int(i) => Value::Int(*i),
            Value::UInt(u) => Value::UInt(*u),
            Value::Bool(b) => Value::Bool(*b),
            Value::Principal(p) => Value::Principal(p.clone()),
            Value::Buff(b) => Value::Buff(b.clone()),
            Value::Ascii(b) => Value::Ascii(b.clone()),
            Value::Utf8(c) => Value::Utf8(c.clone()),
            Value::List(l) => Value::List(l.clone()),
            Value::Tuple(t) => Value::Tuple(t.clone()),
            Value::Optional(o) => Value::Optional(o.clone()),
            Value::Response(ok, v) => Value::Response(*ok, v.clone()),
        }
    }
}

impl Value {
    pub fn ok(v: Value) -> Value {
        Value::Response(true, Box::new(v))
    }
    pub fn err(v: Value) -> Value {
        Value::Response(false, Box::new(v))
    }
    pub fn some(v: Value) -> Value {
        Value::Optional(Some(Box::new(v)))
    }
    pub fn none() -> Value {
        Value::Optional(None)
    }
    pub fn err_uint(code: u128) -> Value {
        Value::err(Value::UInt(code))
    }
    pub fn ok_true() -> Value {
        Value::ok(Value::Bool(true))
    }

    /// Serialized size (bytes), without serializing.
    /// (Numbers, booleans and standard principals are answered in line; the rest by
    /// [`Value::size_general`].)
    #[inline]
    pub fn size(&self) -> u64 {
        match self {
            Value::Int(_) | Value::UInt(_) => 17,
            Value::Bool(_) => 1,
            Value::Principal(Principal::Standard(_)) => 22,
            _ => self.size_general(),
        }
    }

    fn size_general(&self) -> u64 {
        match self {
            Value::Int(_)
            | Value::UInt(_)
            | Value::Bool(_)
            | Value::Principal(Principal::Standard(_)) => self.size(),
            Value::Principal(Principal::Contract(_, n)) => 23 + n.len() as u64,
            Value::Buff(b) | Value::Ascii(b) => 5 + b.len() as u64,
            Value::Utf8(s) => 5 + s.iter().map(|c| c.len_utf8() as u64).sum::<u64>(),
            Value::List(items) => 5 + items.iter().map(Value::size).sum::<u64>(),
            Value::Tuple(m) => {
                5 + m
                    .iter()
                    .map(|(k, v)| 1 + k.len() as u64 + v.size())
                    .sum::<u64>()
            }
            Value::Optional(None) => 1,
            Value::Optional(Some(v)) | Value::Response(_, v) => 1 + v.size(),
        }
    }

    /// Clarity's consensus serialization.
    pub fn serialize(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32);
        self.serialize_into(&mut out);
        out
    }

    pub fn serialize_into(&self, out: &mut Vec<u8>) {
        fn principal(out: &mut Vec<u8>, p: &StandardPrincipal) {
            out.push(p.version);
            out.extend_from_slice(&p.hash);
        }
        fn len32(out: &mut Vec<u8>, n: usize) {
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
        match self {
            Value::Int(i) => {
                out.push(0x00);
                out.extend_from_slice(&i.to_be_bytes());
            }
            Value::UInt(u) => {
                out.push(0x01);
                out.extend_from_slice(&u.to_be_bytes());
            }
            Value::Buff(b) => {
                out.push(0x02);
                len32(out, b.len());
                out.extend_from_slice(b);
            }
            Value::Bool(true) => out.push(0x03),
            Value::Bool(false) => out.push(0x04),
            Value::Principal(Principal::Standard(p)) => {
                out.push(0x05);
                principal(out, p);
            }
            Value::Principal(Principal::Contract(p, n)) => {
                out.push(0x06);
                principal(out, p);
                out.push(n.len() as u8);
                out.extend_from_slice(n.as_bytes());
            }
            Value::Response(true, v) => {
                out.push(0x07);
                v.serialize_into(out);
            }
            Value::Response(false, v) => {
                out.push(0x08);
                v.serialize_into(out);
            }
            Value::Optional(None) => out.push(0x09),
            Value::Optional(Some(v)) => {
                out.push(0x0a);
                v.serialize_into(out);
            }
            Value::List(items) => {
                out.push(0x0b);
                len32(out, items.len());
                for i in items {
                    i.serialize_into(out);
                }
            }
            Value::Tuple(m) => {
                out.push(0x0c);
                len32(out, m.len());
                for (k, v) in m {
                    out.push(k.len() as u8);
                    out.extend_from_slice(k.as_bytes());
                    v.serialize_into(out);
                }
            }
            Value::Ascii(b) => {
                out.push(0x0d);
                len32(out, b.len());
                out.extend_from_slice(b);
            }
            Value::Utf8(s) => {
                out.push(0x0e);
                let text: String = s.iter().collect();
                len32(out, text.len());
                out.extend_from_slice(text.as_bytes());
            }
        }
    }

    /// Parses the consensus serialization (the whole input must be consumed).
    pub fn deserialize(bytes: &[u8]) -> Result<Value, String> {
        if bytes.len() as u64 > MAX_VALUE_SIZE {
            return Err("serialized value too large".into());
        }
        // A number, the commonest stored value (balances, counters), decoded directly.
        if let Some((&tag, rest)) = bytes.split_first() {
            if let Ok(b) = <[u8; 16]>::try_from(rest) {
                match tag {
                    0x00 => return Ok(Value::Int(i128::from_be_bytes(b))),
                    0x01 => return Ok(Value::UInt(u128::from_be_bytes(b))),
                    _ => {}
                }
            }
        }
        Value::deserialize_as(bytes, Want::Stored)
    }

    /// Reads the argument of `from-consensus-buff?` against `t` as the reference does (see
    /// [`Want::Given`]); the caller still checks that `t` admits the value.
    pub fn deserialize_given(bytes: &[u8], t: &Type) -> Result<Value, String> {
        if bytes.len() as u64 > MAX_VALUE_SIZE {
            return Err("serialized value too large".into());
        }
        Value::deserialize_as(bytes, Want::Given(Some(t)))
    }

    fn deserialize_as(bytes: &[u8], want: Want<'_>) -> Result<Value, String> {
        let mut pos = 0usize;
        let v = deser(bytes, &mut pos, 0, want)?;
        if pos != bytes.len() {
            return Err("trailing bytes after serialized value".into());
        }
        Ok(v)
    }
}

fn take<'a>(bytes: &'a [u8], pos: &mut usize, n: usize) -> Result<&'a [u8], String> {
    let end = pos
        .checked_add(n)
        .filter(|&e| e <= bytes.len())
        .ok_or("truncated value")?;
    let out = &bytes[*pos..end];
    *pos = end;
    Ok(out)
}

fn take_u32(bytes: &[u8], pos: &mut usize) -> Result<usize, String> {
    let b = take(bytes, pos, 4)?;
    Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
}

fn take_std(bytes: &[u8], pos: &mut usize) -> Result<StandardPrincipal, String> {
    let b = take(bytes, pos, 21)?;
    if b[0] >= 32 {
        return Err("bad principal version".into());
    }
    let mut hash = [0u8; 20];
    hash.copy_from_slice(&b[1..]);
    Ok(StandardPrincipal {
        version: b[0],
        hash,
    })
}

fn take_name(bytes: &[u8], pos: &mut usize, max: usize) -> Result<String, String> {
    let n = take(bytes, pos, 1)?[0] as usize;
    if n > max {
        return Err("name too long".into());
    }
    let raw = take(bytes, pos, n)?;
    String::from_utf8(raw.to_vec()).map_err(|_| "bad name".to_string())
}

/// What a serialized value is read as.
#[derive(Clone, Copy)]
enum Want<'t> {
    /// A value this VM stored: tuple fields in canonical order, contract names as deployed.
    Stored,
    /// The argument of `from-consensus-buff?`, read as the reference reads it (epoch 2.4 and
    /// later: "sanitizing"): against the expected type, `None` inside a tuple field the type
    /// does not name (read, checked, then dropped).
    Given(Option<&'t Type>),
}

fn deser(bytes: &[u8], pos: &mut usize, depth: u32, want: Want<'_>) -> Result<Value, String> {
    if depth > MAX_TYPE_DEPTH {
        return Err("serialized value nested too deeply".into());
    }
    let expected = match want {
        Want::Given(t) => t,
        Want::Stored => None,
    };
    // In a typed read, the tag must be of the expected type's kind.
    let fits = |tag: u8| match expected {
        None => true,
        Some(t) => matches!(
            (tag, t),
            (0x00, Type::Int)
                | (0x01, Type::UInt)
                | (0x02, Type::Buff(_))
                | (0x03 | 0x04, Type::Bool)
                | (0x05 | 0x06, Type::Principal)
                | (0x07 | 0x08, Type::Response(..))
                | (0x09 | 0x0a, Type::Optional(_))
                | (0x0b, Type::List(..))
                | (0x0c, Type::Tuple(_))
                | (0x0d, Type::Ascii(_))
                | (0x0e, Type::Utf8(_))
        ),
    };
    // The want of a value inside this one, whose expected type is `t`.
    fn inner<'a>(want: Want<'_>, t: Option<&'a Type>) -> Want<'a> {
        match want {
            Want::Stored => Want::Stored,
            Want::Given(_) => Want::Given(t),
        }
    }
    let tag = take(bytes, pos, 1)?[0];
    if !fits(tag) {
        return Err(format!("type tag {tag:#04x} is not of the expected type"));
    }
    let too_long = |n: usize| match expected {
        Some(Type::Buff(m) | Type::Ascii(m) | Type::List(_, m)) => n as u64 > u64::from(*m),
        _ => false,
    };
    Ok(match tag {
        0x00 => {
            let b = take(bytes, pos, 16)?;
            Value::Int(i128::from_be_bytes(b.try_into().map_err(|_| "truncated")?))
        }
        0x01 => {
            let b = take(bytes, pos, 16)?;
            Value::UInt(u128::from_be_bytes(b.try_into().map_err(|_| "truncated")?))
        }
        0x02 => {
            let n = take_u32(bytes, pos)?;
            if too_long(n) {
                return Err("buffer longer than its type".into());
            }
            Value::Buff(take(bytes, pos, n)?.to_vec())
        }
        0x03 => Value::Bool(true),
        0x04 => Value::Bool(false),
        0x05 => Value::Principal(Principal::Standard(take_std(bytes, pos)?)),
        0x06 => {
            let p = take_std(bytes, pos)?;
            let name = take_name(bytes, pos, 128)?;
            let valid = match want {
                Want::Stored => valid_contract_name(&name),
                Want::Given(_) => valid_principal_contract_name(&name),
            };
            if !valid {
                return Err("bad contract name".into());
            }
            Value::Principal(Principal::Contract(p, name.into()))
        }
        0x07 | 0x08 => {
            let t = match expected {
                Some(Type::Response(ok, err)) => Some(if tag == 0x07 { &**ok } else { &**err }),
                _ => None,
            };
            Value::Response(
                tag == 0x07,
                Box::new(deser(bytes, pos, depth + 1, inner(want, t))?),
            )
        }
        0x09 => Value::none(),
        0x0a => {
            let t = match expected {
                Some(Type::Optional(t)) => Some(&**t),
                _ => None,
            };
            Value::some(deser(bytes, pos, depth + 1, inner(want, t))?)
        }
        0x0b => {
            let n = take_u32(bytes, pos)?;
            if too_long(n) {
                return Err("list longer than its type".into());
            }
            let t = match expected {
                Some(Type::List(t, _)) => Some(&**t),
                _ => None,
            };
            let mut items = Vec::with_capacity(n.min(bytes.len() - *pos));
            for _ in 0..n {
                items.push(deser(bytes, pos, depth + 1, inner(want, t))?);
            }
            let list = Value::List(items);
            // Untyped (a dropped tuple field), a list must still have one element type.
            if matches!(want, Want::Given(None)) && value_type(&list).is_none() {
                return Err("list of values of different types".into());
            }
            list
        }
        0x0c => {
            let n = take_u32(bytes, pos)?;
            match want {
                Want::Stored => {
                    let mut m = BTreeMap::new();
                    let mut last: Option<String> = None;
                    for _ in 0..n {
                        let k = take_name(bytes, pos, 128)?;
                        if last.as_ref().is_some_and(|l| *l >= k) {
                            return Err("tuple fields not in canonical order".into());
                        }
                        last = Some(k.clone());
                        m.insert(Name::from(k.as_str()), deser(bytes, pos, depth + 1, want)?);
                    }
                    Value::Tuple(m)
                }
                Want::Given(t) => given_tuple(bytes, pos, depth, n, t)?,
            }
        }
        0x0d => {
            let n = take_u32(bytes, pos)?;
            if too_long(n) {
                return Err("string longer than its type".into());
            }
            let b = take(bytes, pos, n)?;
            if !b.iter().all(|c| is_clarity_ascii(*c)) {
                return Err("non-ASCII byte in string-ascii".into());
            }
            Value::Ascii(b.to_vec())
        }
        0x0e => {
            let n = take_u32(bytes, pos)?;
            let b = take(bytes, pos, n)?;
            let s = std::str::from_utf8(b).map_err(|_| "bad UTF-8 in string-utf8")?;
            let chars: Vec<char> = s.chars().collect();
            if matches!(expected, Some(Type::Utf8(m)) if chars.len() as u64 > u64::from(*m)) {
                return Err("string longer than its type".into());
            }
            Value::Utf8(chars)
        }
        _ => return Err(format!("unknown type tag {tag:#04x}")),
    })
}

/// A tuple of `n` fields read as the reference's sanitizing deserializer reads it against
/// `t`: fields in any order, each name a valid Clarity name; typed, at least the type's
/// fields, those it does not name read untyped and dropped, then exactly the type's fields
/// left (a repeated field counts twice and the last one stays, so the tuple then lacks one);
/// untyped, no field twice.
fn given_tuple(
    bytes: &[u8],
    pos: &mut usize,
    depth: u32,
    n: usize,
    t: Option<&Type>,
) -> Result<Value, String> {
    let fields = match t {
        Some(Type::Tuple(f)) => Some(f),
        _ => None,
    };
    if fields.is_some_and(|f| n < f.len()) {
        return Err("tuple has fewer fields than its type".into());
    }
    let mut kept = 0usize;
    let mut m = BTreeMap::new();
    for _ in 0..n {
        let k = take_name(bytes, pos, 128)?;
        if !valid_clarity_name(&k) {
            return Err("bad tuple field name".into());
        }
        let field_type = fields.map(|f| f.get(k.as_str()));
        let v = deser(bytes, pos, depth + 1, Want::Given(field_type.flatten()))?;
        match field_type {
            // A field the type does not name: dropped.
            Some(None) => continue,
            Some(Some(_)) => kept += 1,
            None => {
                if m.contains_key(k.as_str()) {
                    return Err("tuple field given twice".into());
                }
            }
        }
        m.insert(Name::from(k.as_str()), v);
    }
    if let Some(f) = fields {
        if kept != f.len() || m.len() != f.len() {
            return Err("tuple fields do not match its type".into());
        }
    }
    Ok(Value::Tuple(m))
}

/// A contract name inside a principal value, as the reference admits one (`ContractName`):
/// up to 128 bytes (names over 40 were once accepted), or `__transient`.
fn valid_principal_contract_name(name: &str) -> bool {
    let b = name.as_bytes();
    name == "__transient"
        || !b.is_empty()
            && b.len() <= 128
            && b[0].is_ascii_alphabetic()
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')
}

/// A tuple field name as the reference admits one (`ClarityName`): a letter then letters,
/// digits and `-_!?+<>=/*`, or one of `- + = / * < > <= >=`; at most 128 bytes.
fn valid_clarity_name(name: &str) -> bool {
    let b = name.as_bytes();
    match b {
        [] => false,
        [b'-' | b'+' | b'=' | b'/' | b'*'] | [b'<' | b'>'] | [b'<' | b'>', b'='] => true,
        [first, rest @ ..] => {
            b.len() <= 128
                && first.is_ascii_alphabetic()
                && rest
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || b"-_!?+<>=/*".contains(c))
        }
    }
}

/// The type of a value (sizes included), if its lists each have one element type.
pub fn value_type(v: &Value) -> Option<Type> {
    Some(match v {
        Value::Int(_) => Type::Int,
        Value::UInt(_) => Type::UInt,
        Value::Bool(_) => Type::Bool,
        Value::Principal(_) => Type::Principal,
        Value::Buff(b) => Type::Buff(b.len() as u32),
        Value::Ascii(b) => Type::Ascii(b.len() as u32),
        Value::Utf8(s) => Type::Utf8(s.len() as u32),
        Value::List(items) => {
            let mut t = Type::NoType;
            for i in items {
                t = Type::union(&t, &value_type(i)?)?;
            }
            Type::list(t, items.len() as u32)
        }
        Value::Tuple(m) => Type::Tuple(
            m.iter()
                .map(|(k, v)| Some((k.clone(), value_type(v)?)))
                .collect::<Option<_>>()?,
        ),
        Value::Optional(None) => Type::optional(Type::NoType),
        Value::Optional(Some(v)) => Type::optional(value_type(v)?),
        Value::Response(true, v) => Type::response(value_type(v)?, Type::NoType),
        Value::Response(false, v) => Type::response(Type::NoType, value_type(v)?),
    })
}

/// Bytes allowed in a `string-ascii`: printable ASCII and ASCII whitespace (tab, newline,
/// form feed, carriage return), as the reference admits them.
pub fn is_clarity_ascii(c: u8) -> bool {
    (0x20..0x7f).contains(&c) || c.is_ascii_whitespace()
}

fn write_ascii_escaped(out: &mut String, bytes: &[u8]) {
    out.push('"');
    for &c in bytes {
        match c {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\r' => out.push_str("\\r"),
            c => out.push(c as char),
        }
    }
    out.push('"');
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // 128-bit formatting divides in 128 bits: most values fit 64.
            Value::Int(i) => match i64::try_from(*i) {
                Ok(small) => write!(f, "{small}"),
                Err(_) => write!(f, "{i}"),
            },
            Value::UInt(u) => {
                f.write_str("u")?;
                match u64::try_from(*u) {
                    Ok(small) => write!(f, "{small}"),
                    Err(_) => write!(f, "{u}"),
                }
            }
            Value::Bool(b) => f.write_str(if *b { "true" } else { "false" }),
            Value::Principal(p) => {
                f.write_str("'")?;
                fmt::Display::fmt(p, f)
            }
            Value::Buff(b) => write!(f, "0x{}", hex::encode(b)),
            Value::Ascii(b) => {
                let mut s = String::new();
                write_ascii_escaped(&mut s, b);
                f.write_str(&s)
            }
            Value::Utf8(chars) => {
                let mut s = String::from("u\"");
                for &c in chars {
                    match c {
                        '"' => s.push_str("\\\""),
                        '\\' => s.push_str("\\\\"),
                        '\n' => s.push_str("\\n"),
                        '\t' => s.push_str("\\t"),
                        '\r' => s.push_str("\\r"),
                        c if c.is_ascii() && !c.is_ascii_control() => s.push(c),
                        c => {
                            let _ = write!(s, "\\u{{{:x}}}", c as u32);
                        }
                    }
                }
                s.push('"');
                f.write_str(&s)
            }
            Value::List(items) => {
                f.write_str("(list")?;
                for i in items {
                    write!(f, " {i}")?;
                }
                f.write_str(")")
            }
            Value::Tuple(m) => {
                f.write_str("{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str("}")
            }
            Value::Optional(None) => f.write_str("none"),
            Value::Optional(Some(v)) => write!(f, "(some {v})"),
            Value::Response(true, v) => write!(f, "(ok {v})"),
            Value::Response(false, v) => write!(f, "(err {v})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialization_roundtrip() {
        let p = Principal::parse("ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.token").unwrap();
        let mut m = BTreeMap::new();
        m.insert(Name::from("a"), Value::Int(-5));
        m.insert(Name::from("b"), Value::Utf8("hé".chars().collect()));
        let v = Value::List(vec![
            Value::ok(Value::UInt(7)),
            Value::err(Value::Principal(p)),
            Value::some(Value::Tuple(m)),
            Value::none(),
            Value::Buff(vec![1, 2]),
            Value::Ascii(b"x".to_vec()),
            Value::Bool(false),
        ]);
        let bytes = v.serialize();
        assert_eq!(bytes.len() as u64, v.size());
        assert_eq!(Value::deserialize(&bytes).unwrap(), v);
        assert!(Value::deserialize(&bytes[..bytes.len() - 1]).is_err());
        assert!(Value::deserialize(&[0x0b, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert_eq!(
            Value::UInt(1).serialize(),
            [&[1u8][..], &[0; 15], &[1]].concat()
        );
    }

    #[test]
    fn deep_serialized_value_refused() {
        let mut bytes = vec![0x0a; 100];
        bytes.push(0x03);
        assert!(Value::deserialize(&bytes).is_err());
    }

    #[test]
    fn union_and_admits() {
        let a = Type::response(Type::Int, Type::NoType);
        let b = Type::response(Type::NoType, Type::UInt);
        assert_eq!(
            Type::union(&a, &b),
            Some(Type::response(Type::Int, Type::UInt))
        );
        assert!(Type::Buff(10).admits(&Type::Buff(3)));
        assert!(!Type::Buff(2).admits(&Type::Buff(3)));
        assert_eq!(Type::union(&Type::Int, &Type::UInt), None);
        assert!(Type::list(Type::Int, 1 << 30).check_limits().is_err());
        // The reference's size model: 65,000 uints fit (16 bytes each), a 1 MiB buffer fits
        // alone but not in an optional, 8,000 principals (148 each) do not fit.
        assert!(Type::list(Type::UInt, 65_000).check_limits().is_ok());
        assert!(Type::Buff(1 << 20).check_limits().is_ok());
        assert!(Type::Ascii(1 << 20).check_limits().is_ok());
        assert!(Type::Buff((1 << 20) + 1).check_limits().is_err());
        assert!(Type::optional(Type::Buff(1 << 20)).check_limits().is_err());
        assert!(Type::list(Type::Principal, 8_000).check_limits().is_err());
    }
}
