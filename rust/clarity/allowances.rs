//! Clarity 4 asset allowances: what the body of `restrict-assets?` or `as-contract?` may
//! move out of the protected principal's holdings.
//!
//! While such a form is open the evaluator records every outflow (STX transferred or
//! burned, fungible tokens transferred or burned, non-fungible tokens transferred or burned)
//! with the principal it left; a nested call that fails or returns `err` takes its records
//! with it. When the body ends, [`violation`] compares the protected principal's gross
//! outflows (inflows never offset them) with the allowances, as the reference does.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::types::{Name, Principal, Value};

/// The index a violation reports when an asset moved without any allowance of its kind
/// (the reference's `MAX_ALLOWANCES`).
pub const NO_ALLOWANCE: u128 = 128;

/// One entry of an allowance list, evaluated.
#[derive(Debug, Clone, PartialEq)]
pub enum Allowance {
    /// `(with-stx amount)`: at most `amount` micro-FAI transferred, and at most `amount`
    /// burned.
    Stx(u128),
    /// `(with-ft contract token amount)`: at most `amount` of the token transferred and
    /// burned together; token `*` covers every token of the contract.
    Ft {
        contract: String,
        token: String,
        amount: u128,
    },
    /// `(with-nft contract token ids)`: only these identifiers may leave; the lists of one
    /// token are joined; token `*` covers every token of the contract.
    Nft {
        contract: String,
        token: String,
        ids: Vec<Value>,
    },
    /// `(with-stacking amount)`: FAI's ledger has no stacking, so nothing is ever recorded
    /// against it.
    Stacking(u128),
    /// `(with-all-assets-unsafe)`: no restriction (`as-contract?` only).
    All,
}

/// What left a principal's holdings.
#[derive(Debug, Clone, PartialEq)]
pub enum Outflow {
    Stx(u128),
    StxBurn(u128),
    Ft {
        contract: Arc<str>,
        token: Name,
        amount: u128,
    },
    Nft {
        contract: Arc<str>,
        token: Name,
        id: Value,
    },
}

/// An outflow and the principal it left.
#[derive(Debug, Clone, PartialEq)]
pub struct Moved {
    pub owner: Principal,
    pub what: Outflow,
}

/// Is `name` a token name an allowance may give: a Clarity name, or `*`?
pub fn valid_token_name(name: &[u8]) -> bool {
    let special = |c: &u8| {
        matches!(
            c,
            b'-' | b'_' | b'!' | b'?' | b'+' | b'<' | b'>' | b'=' | b'/' | b'*'
        )
    };
    match name {
        [] => false,
        [b'*'] => true,
        [first, rest @ ..] => {
            first.is_ascii_alphabetic()
                && name.len() <= 128
                && rest.iter().all(|c| c.is_ascii_alphanumeric() || special(c))
        }
    }
}

/// The smallest index of an allowance that `owner`'s outflows in `moved` exceed, or
/// [`NO_ALLOWANCE`] for an outflow of a kind no allowance names; `None` when all is
/// allowed.
///
/// Every allowance of a kind is a cap of its own (the smallest one binds). STX transferred
/// and STX burned are each held to every `with-stx`, and so is their sum (the reference
/// refuses a transaction whose sum alone exceeds a cap from epoch 3.3 and reports the
/// allowance from epoch 3.4; this VM reports it). A fungible token's transfers and burns
/// add up, held to the allowances of the token and of `*` in its contract. Every
/// non-fungible token identifier that left must be in the joined list of the token's own
/// allowances (if any) and in that of its contract's `*` allowances (if any); a violation
/// reports the first allowance of the list that misses it.
pub fn violation(owner: &Principal, allowances: &[Allowance], moved: &[Moved]) -> Option<u128> {
    if allowances.contains(&Allowance::All) {
        return None;
    }
    let (mut stx, mut burned) = (0u128, 0u128);
    let mut fts: BTreeMap<(&str, &str), u128> = BTreeMap::new();
    let mut nfts: BTreeMap<(&str, &str), Vec<&Value>> = BTreeMap::new();
    for m in moved.iter().filter(|m| m.owner == *owner) {
        match &m.what {
            Outflow::Stx(a) => stx = stx.saturating_add(*a),
            Outflow::StxBurn(a) => burned = burned.saturating_add(*a),
            Outflow::Ft {
                contract,
                token,
                amount,
            } => {
                let total = fts.entry((contract, token)).or_default();
                *total = total.saturating_add(*amount);
            }
            Outflow::Nft {
                contract,
                token,
                id,
            } => nfts.entry((contract, token)).or_default().push(id),
        }
    }
    let mut worst: Option<u128> = None;
    let mut flag = |i: u128| worst = Some(worst.map_or(i, |w| w.min(i)));
    let index = |i: usize| i as u128;

    let stx_caps: Vec<(usize, u128)> = allowances
        .iter()
        .enumerate()
        .filter_map(|(i, a)| match a {
            Allowance::Stx(cap) => Some((i, *cap)),
            _ => None,
        })
        .collect();
    for total in [stx, burned, stx.saturating_add(burned)] {
        if total == 0 {
            continue;
        }
        match stx_caps.iter().find(|(_, cap)| *cap < total) {
            _ if stx_caps.is_empty() => flag(NO_ALLOWANCE),
            Some((i, _)) => flag(index(*i)),
            None => {}
        }
    }

    for ((contract, token), total) in &fts {
        let mut any = false;
        for (i, a) in allowances.iter().enumerate() {
            if let Allowance::Ft {
                contract: c,
                token: t,
                amount,
            } = a
            {
                if c == contract && (t == token || t == "*") {
                    any = true;
                    if amount < total {
                        flag(index(i));
                    }
                }
            }
        }
        if !any {
            flag(NO_ALLOWANCE);
        }
    }

    for ((contract, token), ids) in &nfts {
        let mut any = false;
        for key in [*token, "*"] {
            let mut first = None;
            let mut listed: Vec<&Value> = Vec::new();
            for (i, a) in allowances.iter().enumerate() {
                if let Allowance::Nft {
                    contract: c,
                    token: t,
                    ids,
                } = a
                {
                    if c == contract && t == key {
                        first.get_or_insert(i);
                        listed.extend(ids);
                    }
                }
            }
            if let Some(i) = first {
                any = true;
                if ids.iter().any(|id| !listed.contains(id)) {
                    flag(index(i));
                }
            }
        }
        if !any {
            flag(NO_ALLOWANCE);
        }
    }
    worst
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Principal {
        Principal::parse("ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM").unwrap()
    }

    fn bob() -> Principal {
        Principal::parse("ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG").unwrap()
    }

    const C: &str = "ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.tok";

    fn ft(owner: Principal, token: &str, amount: u128) -> Moved {
        Moved {
            owner,
            what: Outflow::Ft {
                contract: C.into(),
                token: token.into(),
                amount,
            },
        }
    }

    fn nft(owner: Principal, token: &str, id: u128) -> Moved {
        Moved {
            owner,
            what: Outflow::Nft {
                contract: C.into(),
                token: token.into(),
                id: Value::UInt(id),
            },
        }
    }

    fn with_ft(token: &str, amount: u128) -> Allowance {
        Allowance::Ft {
            contract: C.into(),
            token: token.into(),
            amount,
        }
    }

    fn with_nft(token: &str, ids: &[u128]) -> Allowance {
        Allowance::Nft {
            contract: C.into(),
            token: token.into(),
            ids: ids.iter().map(|i| Value::UInt(*i)).collect(),
        }
    }

    fn stx(owner: Principal, a: u128) -> Moved {
        Moved {
            owner,
            what: Outflow::Stx(a),
        }
    }

    #[test]
    fn stx_caps_the_smallest_binds_and_none_is_128() {
        let a = alice();
        let moved = [stx(a.clone(), 30), stx(a.clone(), 10)];
        assert_eq!(violation(&a, &[Allowance::Stx(40)], &moved), None);
        assert_eq!(violation(&a, &[Allowance::Stx(39)], &moved), Some(0));
        let caps = [Allowance::Stx(100), Allowance::Stx(20)];
        assert_eq!(violation(&a, &caps, &moved), Some(1));
        assert_eq!(violation(&a, &[], &moved), Some(NO_ALLOWANCE));
        assert_eq!(
            violation(&a, &[with_ft("t", 1)], &moved),
            Some(NO_ALLOWANCE)
        );
        // other principals' outflows do not count
        assert_eq!(violation(&bob(), &[], &moved), None);
        assert_eq!(violation(&a, &[Allowance::All], &moved), None);
    }

    #[test]
    fn stx_transfer_and_burn_each_and_together() {
        let a = alice();
        let moved = [
            stx(a.clone(), 10),
            Moved {
                owner: a.clone(),
                what: Outflow::StxBurn(10),
            },
        ];
        assert_eq!(violation(&a, &[Allowance::Stx(20)], &moved), None);
        assert_eq!(violation(&a, &[Allowance::Stx(10)], &moved), Some(0));
    }

    #[test]
    fn fungible_tokens_exact_and_wildcard() {
        let a = alice();
        let moved = [ft(a.clone(), "t", 30), ft(a.clone(), "t", 10)];
        assert_eq!(violation(&a, &[with_ft("t", 40)], &moved), None);
        assert_eq!(
            violation(&a, &[with_ft("*", 20), with_ft("t", 20)], &moved),
            Some(0)
        );
        assert_eq!(
            violation(&a, &[with_ft("*", 50), with_ft("t", 20)], &moved),
            Some(1)
        );
        assert_eq!(
            violation(&a, &[with_ft("u", 50)], &moved),
            Some(NO_ALLOWANCE)
        );
    }

    #[test]
    fn non_fungible_ids_are_joined_per_token() {
        let a = alice();
        let moved = [nft(a.clone(), "t", 123)];
        assert_eq!(
            violation(&a, &[with_nft("t", &[122]), with_nft("t", &[123])], &moved),
            None
        );
        assert_eq!(
            violation(&a, &[with_nft("*", &[122]), with_nft("t", &[124])], &moved),
            Some(0)
        );
        assert_eq!(
            violation(&a, &[with_nft("t", &[124]), with_nft("*", &[123])], &moved),
            Some(0)
        );
        assert_eq!(violation(&a, &[with_nft("*", &[123])], &moved), None);
        assert_eq!(
            violation(&a, &[with_nft("u", &[123])], &moved),
            Some(NO_ALLOWANCE)
        );
        // int 123 is not uint 123
        let moved = [Moved {
            owner: a.clone(),
            what: Outflow::Nft {
                contract: C.into(),
                token: "t".into(),
                id: Value::Int(123),
            },
        }];
        assert_eq!(violation(&a, &[with_nft("t", &[123])], &moved), Some(0));
    }

    #[test]
    fn token_names() {
        assert!(valid_token_name(b"stackaroo"));
        assert!(valid_token_name(b"*"));
        assert!(valid_token_name(b"a-b_c!?"));
        assert!(!valid_token_name(b""));
        assert!(!valid_token_name(b"1abc"));
        assert!(!valid_token_name(b"a b"));
    }
}
