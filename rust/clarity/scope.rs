//! Bindings in scope, innermost last: local names (function arguments, `let` and `match`
//! names) in the checker and the evaluator, and the evaluator's journal of state writes
//! (key -> value, savepoints as lengths).
//!
//! A lookup scans from the innermost binding while the scope is small (as every real
//! contract's is); past [`INDEXED_FROM`] bindings a key index keeps lookups constant-time,
//! so a function with tens of thousands of bindings (or a transaction with thousands of
//! writes) cannot make each lookup, in the type checker or the evaluator, cost time
//! proportional to them.

use std::borrow::Borrow;
use std::hash::Hash;

use ahash::AHashMap;

use super::types::Name;

/// Bindings beyond which lookups go through the index.
pub const INDEXED_FROM: usize = 16;

#[derive(Debug, Clone)]
pub struct Scope<T, K = Name> {
    /// (key, value), innermost last.
    items: Vec<(K, T)>,
    /// While indexed: for each binding, the position of the binding of the same key it
    /// shadows.
    shadows: Vec<Option<usize>>,
    /// Key -> position of its innermost binding; kept only past `INDEXED_FROM` bindings.
    index: Option<AHashMap<K, usize>>,
}

impl<T, K: Eq + Hash + Clone> Default for Scope<T, K> {
    fn default() -> Self {
        Scope::new()
    }
}

impl<T, K: Eq + Hash + Clone> Scope<T, K> {
    pub fn new() -> Self {
        Scope {
            items: Vec::new(),
            shadows: Vec::new(),
            index: None,
        }
    }

    /// An empty scope whose bindings go into `items` (emptied first), with room for `n`.
    pub fn in_buffer(mut items: Vec<(K, T)>, n: usize) -> Self {
        items.clear();
        items.reserve(n);
        Scope {
            items,
            shadows: Vec::new(),
            index: None,
        }
    }

    pub fn with_capacity(n: usize) -> Self {
        Scope {
            items: Vec::with_capacity(n),
            shadows: Vec::new(),
            index: None,
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    #[inline]
    pub fn push(&mut self, key: K, value: T) {
        if self.index.is_some() || self.items.len() >= INDEXED_FROM {
            self.push_indexed(key, value);
        } else {
            // Room is made first, so the binding is written straight into its slot: `Vec::push`
            // builds it on the stack and copies it (its own growth is a call), and that copy
            // reads the key's padding with the key as one load, which the store buffer cannot
            // forward (a stall per binding).
            let len = self.items.len();
            if len == self.items.capacity() {
                self.items.reserve(1);
            }
            let slot = self.items.spare_capacity_mut()[0].as_mut_ptr();
            // SAFETY: `slot` points to the spare slot at `len`, within the capacity (made just
            // above); its two fields are written (each once, as `ptr::write`, nothing read or
            // dropped) before the length takes it in, so the slot is initialised when
            // `set_len` makes it part of the vector.
            unsafe {
                std::ptr::addr_of_mut!((*slot).0).write(key);
                std::ptr::addr_of_mut!((*slot).1).write(value);
                self.items.set_len(len + 1);
            }
        }
    }

    /// [`Scope::push`] past [`INDEXED_FROM`] bindings: the index is made if need be, and kept.
    #[inline(never)]
    fn push_indexed(&mut self, key: K, value: T) {
        if self.index.is_none() {
            let mut index = AHashMap::with_capacity(self.items.len() * 2);
            self.shadows.clear();
            for (i, (n, _)) in self.items.iter().enumerate() {
                self.shadows.push(index.insert(n.clone(), i));
            }
            self.index = Some(index);
        }
        if let Some(index) = self.index.as_mut() {
            self.shadows
                .push(index.insert(key.clone(), self.items.len()));
        }
        self.items.push((key, value));
    }

    /// Drops the bindings made after the scope had `len` of them.
    #[inline]
    pub fn truncate(&mut self, len: usize) {
        if let Some(index) = self.index.as_mut() {
            while self.items.len() > len {
                let (Some((n, _)), Some(prev)) = (self.items.pop(), self.shadows.pop()) else {
                    break;
                };
                match prev {
                    Some(p) => {
                        index.insert(n, p);
                    }
                    None => {
                        index.remove(&n);
                    }
                }
            }
            if self.items.len() < INDEXED_FROM {
                self.index = None;
                self.shadows.clear();
            }
        } else {
            self.items.truncate(len);
        }
    }

    pub fn clear(&mut self) {
        self.items.clear();
        self.shadows.clear();
        self.index = None;
    }

    /// The binding at `position` (0: the first binding made), with its key.
    pub fn at(&self, position: usize) -> Option<(&K, &T)> {
        self.items.get(position).map(|(k, v)| (k, v))
    }

    /// The innermost binding of `key`.
    #[inline]
    pub fn get<Q>(&self, key: &Q) -> Option<&T>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.position(key).map(|i| &self.items[i].1)
    }

    /// Where the innermost binding of `key` is (0: the first binding made).
    #[inline]
    pub fn position<Q>(&self, key: &Q) -> Option<usize>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        match &self.index {
            Some(index) => index.get(key).copied(),
            None => self.items.iter().rposition(|(n, _)| n.borrow() == key),
        }
    }

    /// Where the innermost binding of `key` for which `keep(position, value)` holds is.
    pub fn position_where<Q>(&self, key: &Q, keep: impl Fn(usize, &T) -> bool) -> Option<usize>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        match &self.index {
            Some(index) => {
                let mut at = index.get(key).copied();
                while let Some(i) = at {
                    if keep(i, &self.items[i].1) {
                        return Some(i);
                    }
                    at = self.shadows[i];
                }
                None
            }
            None => self
                .items
                .iter()
                .enumerate()
                .rev()
                .find(|(i, (n, v))| n.borrow() == key && keep(*i, v))
                .map(|(i, _)| i),
        }
    }

    /// Every binding, in the order made.
    pub fn into_items(self) -> Vec<(K, T)> {
        self.items
    }

    /// The innermost binding of each key, in key order.
    pub fn into_innermost(self) -> Vec<(K, T)>
    where
        K: Ord,
    {
        let mut out = match self.index {
            // Few bindings, each of its own key (a transaction that writes each key once):
            // the bindings themselves.
            None if !self
                .items
                .iter()
                .enumerate()
                .any(|(i, (k, _))| self.items[..i].iter().any(|(p, _)| p == k)) =>
            {
                self.items
            }
            // Few bindings: innermost first, each key the first time it is seen.
            None => {
                let mut out: Vec<(K, T)> = Vec::with_capacity(self.items.len());
                for (k, v) in self.items.into_iter().rev() {
                    if !out.iter().any(|(seen, _)| *seen == k) {
                        out.push((k, v));
                    }
                }
                out
            }
            Some(index) => {
                let mut innermost = vec![false; self.items.len()];
                for &i in index.values() {
                    innermost[i] = true;
                }
                self.items
                    .into_iter()
                    .zip(innermost)
                    .filter(|(_, keep)| *keep)
                    .map(|(kv, _)| kv)
                    .collect()
            }
        };
        out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

impl<T, K: Eq + Hash + Clone> FromIterator<(K, T)> for Scope<T, K> {
    fn from_iter<I: IntoIterator<Item = (K, T)>>(iter: I) -> Self {
        let mut s = Scope::new();
        for (n, v) in iter {
            s.push(n, v);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The indexed scope answers like a plain innermost-first scan, through pushes
    /// (shadowing included) and truncations across the threshold.
    #[test]
    fn indexed_lookups_match_a_scan() {
        let names: Vec<Name> = (0..40)
            .map(|i| Name::from(format!("n{}", i % 23)))
            .collect();
        let mut s: Scope<usize> = Scope::new();
        let mut plain: Vec<(Name, usize)> = Vec::new();
        let check = |s: &Scope<usize>, plain: &[(Name, usize)]| {
            for i in 0..25 {
                let n = format!("n{i}");
                let want = plain
                    .iter()
                    .rev()
                    .find(|(k, _)| k.as_ref() == n)
                    .map(|(_, v)| v);
                assert_eq!(s.get(n.as_str()), want, "{n}");
            }
        };
        for (i, n) in names.iter().enumerate() {
            s.push(n.clone(), i);
            plain.push((n.clone(), i));
            check(&s, &plain);
        }
        for keep in [35, 30, 17, 16, 15, 20, 3, 0] {
            while plain.len() < keep {
                let i = plain.len();
                s.push(names[i].clone(), 100 + i);
                plain.push((names[i].clone(), 100 + i));
            }
            s.truncate(keep);
            plain.truncate(keep);
            assert_eq!(s.len(), keep);
            check(&s, &plain);
        }
    }

    /// `position_where` answers like a scan for the innermost binding that passes, through
    /// shadowing, across the index threshold and after truncations.
    #[test]
    fn position_where_matches_a_scan() {
        let mut s: Scope<usize> = Scope::new();
        let mut plain: Vec<(Name, usize)> = Vec::new();
        let check = |s: &Scope<usize>, plain: &[(Name, usize)]| {
            for k in 0..5 {
                let n = format!("n{k}");
                for m in 1..4 {
                    let want = plain
                        .iter()
                        .enumerate()
                        .rev()
                        .find(|(_, (key, v))| key.as_ref() == n && v % m == 0)
                        .map(|(i, _)| i);
                    assert_eq!(s.position_where(n.as_str(), |_, v| v % m == 0), want);
                }
            }
        };
        for i in 0..40 {
            let n = Name::from(format!("n{}", i % 5));
            s.push(n.clone(), i);
            plain.push((n, i));
            check(&s, &plain);
        }
        for keep in [30, 16, 15, 3] {
            s.truncate(keep);
            plain.truncate(keep);
            check(&s, &plain);
        }
    }

    /// The journal view: the innermost value of each key, in key order, across the
    /// threshold and after truncations.
    #[test]
    fn innermost_bindings_in_key_order() {
        for n in [3usize, 10, 40] {
            let mut s: Scope<usize, Vec<u8>> = Scope::new();
            for i in 0..n {
                s.push(vec![(i % 7) as u8], i);
            }
            s.truncate(n - 1);
            let got = s.into_innermost();
            let mut want: Vec<(Vec<u8>, usize)> = Vec::new();
            for k in 0..7u8 {
                if let Some(i) = (0..n - 1).rev().find(|i| (i % 7) as u8 == k) {
                    want.push((vec![k], i));
                }
            }
            assert_eq!(got, want, "{n} bindings");
        }
    }
}
