//! Hash functions and the transaction Merkle root.
//!
//! * SHA-256 and SHA-256d (SHA-256 applied twice), the ledger layer's block and transaction
//!   hash, exactly as Bitcoin.
//! * BLAKE3, used for model ids and content addressing.
//! * [`merkle_root`]: a Merkle root over 32-byte leaves that is **not** malleable the way
//!   Bitcoin's is (CVE-2012-2459): Bitcoin pairs an odd last node with itself, so the lists
//!   `[a, b, c]` and `[a, b, c, c]` share one root. Here an odd last node is promoted to the
//!   next level unchanged, and leaves and inner nodes are hashed under different one-byte
//!   tags (`0x00` for a leaf, `0x01` for an inner node), so no list of leaves shares its root
//!   with any other list, and no inner node can be passed off as a leaf.

use sha2::{Digest, Sha256};

/// Tag prefixed to a leaf before hashing it into the tree.
pub const MERKLE_LEAF_TAG: u8 = 0x00;
/// Tag prefixed to two child hashes before hashing them into their parent.
pub const MERKLE_NODE_TAG: u8 = 0x01;

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// SHA-256 of SHA-256 of `data`.
pub fn sha256d(data: &[u8]) -> [u8; 32] {
    sha256(&sha256(data))
}

/// BLAKE3 (32-byte output) of `data`.
pub fn blake3(data: &[u8]) -> [u8; 32] {
    *::blake3::hash(data).as_bytes()
}

fn merkle_leaf(leaf: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([MERKLE_LEAF_TAG]);
    h.update(leaf);
    sha256(&h.finalize())
}

fn merkle_node(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([MERKLE_NODE_TAG]);
    h.update(left);
    h.update(right);
    sha256(&h.finalize())
}

/// Merkle root of a list of 32-byte leaves (transaction ids).
///
/// Each leaf `x` enters the tree as `SHA-256d(0x00 || x)`; each parent of `l` and `r` is
/// `SHA-256d(0x01 || l || r)`; an odd node at the end of a level moves up unchanged. The root
/// of the empty list is 32 zero bytes (no block is empty: each has a coinbase).
pub fn merkle_root(leaves: &[[u8; 32]]) -> [u8; 32] {
    if leaves.is_empty() {
        return [0u8; 32];
    }
    let mut level: Vec<[u8; 32]> = leaves.iter().map(merkle_leaf).collect();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [l, r] => merkle_node(l, r),
                [only] => *only,
                _ => unreachable!("chunks(2) yields one or two items"),
            })
            .collect();
    }
    level[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(i: u8) -> [u8; 32] {
        [i; 32]
    }

    #[test]
    fn sha256_known_answers() {
        assert_eq!(
            hex::encode(sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex::encode(sha256d(b"")),
            "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456"
        );
    }

    #[test]
    fn blake3_known_answer() {
        assert_eq!(
            hex::encode(blake3(b"")),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
    }

    #[test]
    fn merkle_duplicate_last_leaf_is_not_malleable() {
        let three = [h(1), h(2), h(3)];
        let four = [h(1), h(2), h(3), h(3)];
        assert_ne!(merkle_root(&three), merkle_root(&four));
        let five = [h(1), h(2), h(3), h(4), h(5)];
        let six = [h(1), h(2), h(3), h(4), h(5), h(5)];
        assert_ne!(merkle_root(&five), merkle_root(&six));
    }

    #[test]
    fn merkle_inner_node_cannot_pose_as_leaf() {
        let leaves = [h(1), h(2), h(3), h(4)];
        let l = merkle_node(&merkle_leaf(&h(1)), &merkle_leaf(&h(2)));
        let r = merkle_node(&merkle_leaf(&h(3)), &merkle_leaf(&h(4)));
        assert_ne!(merkle_root(&leaves), merkle_root(&[l, r]));
        assert_eq!(merkle_root(&leaves), merkle_node(&l, &r));
    }

    #[test]
    fn merkle_shape() {
        assert_eq!(merkle_root(&[]), [0u8; 32]);
        assert_eq!(merkle_root(&[h(7)]), merkle_leaf(&h(7)));
        let ab = merkle_node(&merkle_leaf(&h(1)), &merkle_leaf(&h(2)));
        assert_eq!(
            merkle_root(&[h(1), h(2), h(3)]),
            merkle_node(&ab, &merkle_leaf(&h(3)))
        );
    }
}
