//! Local bindings in scope (function arguments, `let` and `match` names), innermost last.
//!
//! A lookup scans from the innermost binding while the scope is small (as every real
//! contract's is); past [`INDEXED_FROM`] bindings a name index keeps lookups constant-time,
//! so a function with tens of thousands of bindings cannot make each lookup, in the type
//! checker or the evaluator, cost time proportional to them.

use ahash::AHashMap;

use super::types::Name;

/// Bindings beyond which lookups go through the index.
pub const INDEXED_FROM: usize = 16;

#[derive(Debug, Clone)]
pub struct Scope<T> {
    /// (name, value, position of the binding of the same name it shadows).
    items: Vec<(Name, T, Option<usize>)>,
    /// Name -> position of its innermost binding; kept only past `INDEXED_FROM` bindings.
    index: Option<AHashMap<Name, usize>>,
}

impl<T> Default for Scope<T> {
    fn default() -> Self {
        Scope::new()
    }
}

impl<T> Scope<T> {
    pub fn new() -> Self {
        Scope {
            items: Vec::new(),
            index: None,
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn push(&mut self, name: Name, value: T) {
        if self.index.is_none() && self.items.len() >= INDEXED_FROM {
            let mut index = AHashMap::with_capacity(self.items.len() * 2);
            for (i, (n, _, prev)) in self.items.iter_mut().enumerate() {
                *prev = index.insert(n.clone(), i);
            }
            self.index = Some(index);
        }
        let prev = match self.index.as_mut() {
            Some(index) => index.insert(name.clone(), self.items.len()),
            None => None,
        };
        self.items.push((name, value, prev));
    }

    /// Drops the bindings made after the scope had `len` of them.
    pub fn truncate(&mut self, len: usize) {
        if let Some(index) = self.index.as_mut() {
            while self.items.len() > len {
                let Some((n, _, prev)) = self.items.pop() else {
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
            }
        } else {
            self.items.truncate(len);
        }
    }

    pub fn clear(&mut self) {
        self.items.clear();
        self.index = None;
    }

    /// The innermost binding of `name`.
    pub fn get(&self, name: &str) -> Option<&T> {
        self.position(name).map(|i| &self.items[i].1)
    }

    /// Where the innermost binding of `name` is (0: the first binding made).
    pub fn position(&self, name: &str) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(name).copied(),
            None => self.items.iter().rposition(|(n, _, _)| n.as_ref() == name),
        }
    }
}

impl<T> FromIterator<(Name, T)> for Scope<T> {
    fn from_iter<I: IntoIterator<Item = (Name, T)>>(iter: I) -> Self {
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
                assert_eq!(s.get(&n), want, "{n}");
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
}
