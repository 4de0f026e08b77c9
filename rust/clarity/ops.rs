//! Builtin functions, special forms and keywords resolved to small integers when a contract
//! is parsed, so that the evaluator dispatches on an integer instead of comparing names.
//! Users cannot define these names (`analysis::is_reserved`), so an atom with an op at the
//! head of a list always means the builtin; elsewhere it may name a function argument, or a
//! `let`/`match` binding (which the evaluator refuses when it binds, as the reference does).

/// A builtin or keyword (`PLAIN`: an ordinary name).
pub type Op = u8;

/// An ordinary name: a local, a constant, a user function.
pub const PLAIN: Op = 0;
/// `+`
pub const ADD: Op = 1;
/// `-`
pub const SUB: Op = 2;
/// `*`
pub const MUL: Op = 3;
/// `/`
pub const DIV: Op = 4;
/// `mod`
pub const MOD: Op = 5;
/// `pow`
pub const POW: Op = 6;
/// `sqrti`
pub const SQRTI: Op = 7;
/// `log2`
pub const LOG2: Op = 8;
/// `bit-and`
pub const BIT_AND: Op = 9;
/// `bit-or`
pub const BIT_OR: Op = 10;
/// `bit-xor`
pub const BIT_XOR: Op = 11;
/// `xor`
pub const XOR: Op = 12;
/// `bit-not`
pub const BIT_NOT: Op = 13;
/// `bit-shift-left`
pub const BIT_SHIFT_LEFT: Op = 14;
/// `bit-shift-right`
pub const BIT_SHIFT_RIGHT: Op = 15;
/// `<`
pub const LT: Op = 16;
/// `<=`
pub const LE: Op = 17;
/// `>`
pub const GT: Op = 18;
/// `>=`
pub const GE: Op = 19;
/// `is-eq`
pub const IS_EQ: Op = 20;
/// `and`
pub const AND: Op = 21;
/// `or`
pub const OR: Op = 22;
/// `not`
pub const NOT: Op = 23;
/// `to-int`
pub const TO_INT: Op = 24;
/// `to-uint`
pub const TO_UINT: Op = 25;
/// `int-to-ascii`
pub const INT_TO_ASCII: Op = 26;
/// `int-to-utf8`
pub const INT_TO_UTF8: Op = 27;
/// `string-to-int?`
pub const STRING_TO_INT_Q: Op = 28;
/// `string-to-uint?`
pub const STRING_TO_UINT_Q: Op = 29;
/// `buff-to-int-le`
pub const BUFF_TO_INT_LE: Op = 30;
/// `buff-to-int-be`
pub const BUFF_TO_INT_BE: Op = 31;
/// `buff-to-uint-le`
pub const BUFF_TO_UINT_LE: Op = 32;
/// `buff-to-uint-be`
pub const BUFF_TO_UINT_BE: Op = 33;
/// `to-consensus-buff?`
pub const TO_CONSENSUS_BUFF_Q: Op = 34;
/// `from-consensus-buff?`
pub const FROM_CONSENSUS_BUFF_Q: Op = 35;
/// `list`
pub const LIST: Op = 36;
/// `len`
pub const LEN: Op = 37;
/// `element-at`
pub const ELEMENT_AT: Op = 38;
/// `element-at?`
pub const ELEMENT_AT_Q: Op = 39;
/// `index-of`
pub const INDEX_OF: Op = 40;
/// `index-of?`
pub const INDEX_OF_Q: Op = 41;
/// `slice?`
pub const SLICE_Q: Op = 42;
/// `concat`
pub const CONCAT: Op = 43;
/// `append`
pub const APPEND: Op = 44;
/// `replace-at?`
pub const REPLACE_AT_Q: Op = 45;
/// `as-max-len?`
pub const AS_MAX_LEN_Q: Op = 46;
/// `map`
pub const MAP: Op = 47;
/// `filter`
pub const FILTER: Op = 48;
/// `fold`
pub const FOLD: Op = 49;
/// `ok`
pub const OK: Op = 50;
/// `err`
pub const ERR: Op = 51;
/// `some`
pub const SOME: Op = 52;
/// `is-ok`
pub const IS_OK: Op = 53;
/// `is-err`
pub const IS_ERR: Op = 54;
/// `is-some`
pub const IS_SOME: Op = 55;
/// `is-none`
pub const IS_NONE: Op = 56;
/// `unwrap-panic`
pub const UNWRAP_PANIC: Op = 57;
/// `unwrap-err-panic`
pub const UNWRAP_ERR_PANIC: Op = 58;
/// `unwrap!`
pub const UNWRAP_X: Op = 59;
/// `unwrap-err!`
pub const UNWRAP_ERR_X: Op = 60;
/// `try!`
pub const TRY_X: Op = 61;
/// `asserts!`
pub const ASSERTS_X: Op = 62;
/// `default-to`
pub const DEFAULT_TO: Op = 63;
/// `match`
pub const MATCH: Op = 64;
/// `if`
pub const IF: Op = 65;
/// `let`
pub const LET: Op = 66;
/// `begin`
pub const BEGIN: Op = 67;
/// `tuple`
pub const TUPLE: Op = 68;
/// `get`
pub const GET: Op = 69;
/// `merge`
pub const MERGE: Op = 70;
/// `print`
pub const PRINT: Op = 71;
/// `var-get`
pub const VAR_GET: Op = 72;
/// `var-set`
pub const VAR_SET: Op = 73;
/// `map-get?`
pub const MAP_GET_Q: Op = 74;
/// `map-set`
pub const MAP_SET: Op = 75;
/// `map-insert`
pub const MAP_INSERT: Op = 76;
/// `map-delete`
pub const MAP_DELETE: Op = 77;
/// `ft-get-balance`
pub const FT_GET_BALANCE: Op = 78;
/// `ft-get-supply`
pub const FT_GET_SUPPLY: Op = 79;
/// `ft-mint?`
pub const FT_MINT_Q: Op = 80;
/// `ft-transfer?`
pub const FT_TRANSFER_Q: Op = 81;
/// `ft-burn?`
pub const FT_BURN_Q: Op = 82;
/// `nft-get-owner?`
pub const NFT_GET_OWNER_Q: Op = 83;
/// `nft-mint?`
pub const NFT_MINT_Q: Op = 84;
/// `nft-transfer?`
pub const NFT_TRANSFER_Q: Op = 85;
/// `nft-burn?`
pub const NFT_BURN_Q: Op = 86;
/// `stx-get-balance`
pub const STX_GET_BALANCE: Op = 87;
/// `stx-transfer?`
pub const STX_TRANSFER_Q: Op = 88;
/// `stx-transfer-memo?`
pub const STX_TRANSFER_MEMO_Q: Op = 89;
/// `stx-burn?`
pub const STX_BURN_Q: Op = 90;
/// `stx-account`
pub const STX_ACCOUNT: Op = 91;
/// `contract-call?`
pub const CONTRACT_CALL_Q: Op = 92;
/// `as-contract`
pub const AS_CONTRACT: Op = 93;
/// `contract-of`
pub const CONTRACT_OF: Op = 94;
/// `principal-of?`
pub const PRINCIPAL_OF_Q: Op = 95;
/// `is-standard`
pub const IS_STANDARD: Op = 96;
/// `principal-destruct?`
pub const PRINCIPAL_DESTRUCT_Q: Op = 97;
/// `principal-construct?`
pub const PRINCIPAL_CONSTRUCT_Q: Op = 98;
/// `sha256`
pub const SHA256: Op = 99;
/// `sha512`
pub const SHA512: Op = 100;
/// `sha512/256`
pub const SHA512_256: Op = 101;
/// `keccak256`
pub const KECCAK256: Op = 102;
/// `hash160`
pub const HASH160: Op = 103;
/// `secp256k1-recover?`
pub const SECP256K1_RECOVER_Q: Op = 104;
/// `secp256k1-verify`
pub const SECP256K1_VERIFY: Op = 105;
/// `get-block-info?`
pub const GET_BLOCK_INFO_Q: Op = 106;
/// `get-burn-block-info?`
pub const GET_BURN_BLOCK_INFO_Q: Op = 107;
/// `tx-sender`
pub const TX_SENDER: Op = 108;
/// `contract-caller`
pub const CONTRACT_CALLER: Op = 109;
/// `block-height`
pub const BLOCK_HEIGHT: Op = 110;
/// `burn-block-height`
pub const BURN_BLOCK_HEIGHT: Op = 111;
/// `stx-liquid-supply`
pub const STX_LIQUID_SUPPLY: Op = 112;
/// `is-in-mainnet`
pub const IS_IN_MAINNET: Op = 113;
/// `is-in-regtest`
pub const IS_IN_REGTEST: Op = 114;
/// `chain-id`
pub const CHAIN_ID: Op = 115;
/// `true`
pub const TRUE: Op = 116;
/// `false`
pub const FALSE: Op = 117;
/// `none`
pub const NONE: Op = 118;
/// `tx-sponsor?`
pub const TX_SPONSOR_Q: Op = 119;

/// `get-stacks-block-info?` (Clarity 3)
pub const GET_STACKS_BLOCK_INFO_Q: Op = 120;
/// `get-tenure-info?` (Clarity 3)
pub const GET_TENURE_INFO_Q: Op = 121;

/// `at-block`
pub const AT_BLOCK: Op = 122;
/// `contract-hash?` (Clarity 4)
pub const CONTRACT_HASH_Q: Op = 123;
/// `to-ascii?` (Clarity 4)
pub const TO_ASCII_Q: Op = 124;
/// `restrict-assets?` (Clarity 4)
pub const RESTRICT_ASSETS_Q: Op = 125;
/// `as-contract?` (Clarity 4)
pub const AS_CONTRACT_Q: Op = 126;
/// `secp256r1-verify` (Clarity 4)
pub const SECP256R1_VERIFY: Op = 127;
/// `with-stx`, `with-ft`, `with-nft`, `with-stacking`, `with-all-assets-unsafe`: allowances,
/// only inside the allowance list of `restrict-assets?` or `as-contract?` (Clarity 4)
pub const ALLOWANCE: Op = 128;
/// `stacks-block-time` (Clarity 4)
pub const STACKS_BLOCK_TIME: Op = 129;
/// `current-contract` (Clarity 4)
pub const CURRENT_CONTRACT: Op = 130;
/// Not a builtin: a `let`/`match` binding name the reference's evaluator refuses when it binds
/// it (`NameAlreadyUsed`), marked after analysis (`slots::resolve`).
pub const USED_NAME: Op = 255;

/// The op of an atom (`PLAIN` for an ordinary name).
pub fn op_of(name: &str) -> Op {
    match name {
        "+" => ADD,
        "-" => SUB,
        "*" => MUL,
        "/" => DIV,
        "mod" => MOD,
        "pow" => POW,
        "sqrti" => SQRTI,
        "log2" => LOG2,
        "bit-and" => BIT_AND,
        "bit-or" => BIT_OR,
        "bit-xor" => BIT_XOR,
        "xor" => XOR,
        "bit-not" => BIT_NOT,
        "bit-shift-left" => BIT_SHIFT_LEFT,
        "bit-shift-right" => BIT_SHIFT_RIGHT,
        "<" => LT,
        "<=" => LE,
        ">" => GT,
        ">=" => GE,
        "is-eq" => IS_EQ,
        "and" => AND,
        "or" => OR,
        "not" => NOT,
        "to-int" => TO_INT,
        "to-uint" => TO_UINT,
        "int-to-ascii" => INT_TO_ASCII,
        "int-to-utf8" => INT_TO_UTF8,
        "string-to-int?" => STRING_TO_INT_Q,
        "string-to-uint?" => STRING_TO_UINT_Q,
        "buff-to-int-le" => BUFF_TO_INT_LE,
        "buff-to-int-be" => BUFF_TO_INT_BE,
        "buff-to-uint-le" => BUFF_TO_UINT_LE,
        "buff-to-uint-be" => BUFF_TO_UINT_BE,
        "to-consensus-buff?" => TO_CONSENSUS_BUFF_Q,
        "from-consensus-buff?" => FROM_CONSENSUS_BUFF_Q,
        "list" => LIST,
        "len" => LEN,
        "element-at" => ELEMENT_AT,
        "element-at?" => ELEMENT_AT_Q,
        "index-of" => INDEX_OF,
        "index-of?" => INDEX_OF_Q,
        "slice?" => SLICE_Q,
        "concat" => CONCAT,
        "append" => APPEND,
        "replace-at?" => REPLACE_AT_Q,
        "as-max-len?" => AS_MAX_LEN_Q,
        "at-block" => AT_BLOCK,
        "map" => MAP,
        "filter" => FILTER,
        "fold" => FOLD,
        "ok" => OK,
        "err" => ERR,
        "some" => SOME,
        "is-ok" => IS_OK,
        "is-err" => IS_ERR,
        "is-some" => IS_SOME,
        "is-none" => IS_NONE,
        "unwrap-panic" => UNWRAP_PANIC,
        "unwrap-err-panic" => UNWRAP_ERR_PANIC,
        "unwrap!" => UNWRAP_X,
        "unwrap-err!" => UNWRAP_ERR_X,
        "try!" => TRY_X,
        "asserts!" => ASSERTS_X,
        "default-to" => DEFAULT_TO,
        "match" => MATCH,
        "if" => IF,
        "let" => LET,
        "begin" => BEGIN,
        "tuple" => TUPLE,
        "get" => GET,
        "merge" => MERGE,
        "print" => PRINT,
        "var-get" => VAR_GET,
        "var-set" => VAR_SET,
        "map-get?" => MAP_GET_Q,
        "map-set" => MAP_SET,
        "map-insert" => MAP_INSERT,
        "map-delete" => MAP_DELETE,
        "ft-get-balance" => FT_GET_BALANCE,
        "ft-get-supply" => FT_GET_SUPPLY,
        "ft-mint?" => FT_MINT_Q,
        "ft-transfer?" => FT_TRANSFER_Q,
        "ft-burn?" => FT_BURN_Q,
        "nft-get-owner?" => NFT_GET_OWNER_Q,
        "nft-mint?" => NFT_MINT_Q,
        "nft-transfer?" => NFT_TRANSFER_Q,
        "nft-burn?" => NFT_BURN_Q,
        "stx-get-balance" => STX_GET_BALANCE,
        "stx-transfer?" => STX_TRANSFER_Q,
        "stx-transfer-memo?" => STX_TRANSFER_MEMO_Q,
        "stx-burn?" => STX_BURN_Q,
        "stx-account" => STX_ACCOUNT,
        "contract-call?" => CONTRACT_CALL_Q,
        "as-contract" => AS_CONTRACT,
        "contract-of" => CONTRACT_OF,
        "principal-of?" => PRINCIPAL_OF_Q,
        "is-standard" => IS_STANDARD,
        "principal-destruct?" => PRINCIPAL_DESTRUCT_Q,
        "principal-construct?" => PRINCIPAL_CONSTRUCT_Q,
        "sha256" => SHA256,
        "sha512" => SHA512,
        "sha512/256" => SHA512_256,
        "keccak256" => KECCAK256,
        "hash160" => HASH160,
        "secp256k1-recover?" => SECP256K1_RECOVER_Q,
        "secp256k1-verify" => SECP256K1_VERIFY,
        "get-block-info?" => GET_BLOCK_INFO_Q,
        "get-burn-block-info?" => GET_BURN_BLOCK_INFO_Q,
        "get-stacks-block-info?" => GET_STACKS_BLOCK_INFO_Q,
        "get-tenure-info?" => GET_TENURE_INFO_Q,
        "tx-sender" => TX_SENDER,
        "contract-caller" => CONTRACT_CALLER,
        "block-height" => BLOCK_HEIGHT,
        "burn-block-height" => BURN_BLOCK_HEIGHT,
        "stx-liquid-supply" => STX_LIQUID_SUPPLY,
        "is-in-mainnet" => IS_IN_MAINNET,
        "is-in-regtest" => IS_IN_REGTEST,
        "chain-id" => CHAIN_ID,
        "true" => TRUE,
        "false" => FALSE,
        "none" => NONE,
        "tx-sponsor?" => TX_SPONSOR_Q,
        "contract-hash?" => CONTRACT_HASH_Q,
        "to-ascii?" => TO_ASCII_Q,
        "restrict-assets?" => RESTRICT_ASSETS_Q,
        "as-contract?" => AS_CONTRACT_Q,
        "secp256r1-verify" => SECP256R1_VERIFY,
        "with-stx" | "with-ft" | "with-nft" | "with-stacking" | "with-all-assets-unsafe" => {
            ALLOWANCE
        }
        "stacks-block-time" => STACKS_BLOCK_TIME,
        "current-contract" => CURRENT_CONTRACT,
        _ => PLAIN,
    }
}

/// The builtin functions and keywords that Clarity 2 added: in Clarity 1 code they are
/// ordinary names (a Clarity 1 contract may define `buff-to-uint-le` or a constant
/// `chain-id`), and used without such a definition they are unknown.
pub const CLARITY2_ONLY: &[&str] = &[
    "is-standard",
    "principal-destruct?",
    "principal-construct?",
    "string-to-int?",
    "string-to-uint?",
    "int-to-ascii",
    "int-to-utf8",
    "get-burn-block-info?",
    "stx-account",
    "slice?",
    "to-consensus-buff?",
    "from-consensus-buff?",
    "stx-transfer-memo?",
    "replace-at?",
    "buff-to-int-le",
    "buff-to-uint-le",
    "buff-to-int-be",
    "buff-to-uint-be",
    "bit-and",
    "bit-or",
    "bit-xor",
    "bit-not",
    "bit-shift-left",
    "bit-shift-right",
    "tx-sponsor?",
    "chain-id",
    "is-in-mainnet",
];

/// The builtin functions and keywords that Clarity 3 added.
pub const CLARITY3_ONLY: &[&str] = &[
    "get-stacks-block-info?",
    "get-tenure-info?",
    "stacks-block-height",
    "tenure-height",
];

/// The builtin functions and keywords that Clarity 3 removed (ordinary names from then on).
pub const CLARITY3_REMOVED: &[&str] = &["get-block-info?", "block-height"];

/// The builtin functions and allowances that Clarity 4 added.
pub const CLARITY4_FUNCTIONS: &[&str] = &[
    "contract-hash?",
    "to-ascii?",
    "restrict-assets?",
    "as-contract?",
    "secp256r1-verify",
    "with-stx",
    "with-ft",
    "with-nft",
    "with-stacking",
    "with-all-assets-unsafe",
];

/// The keywords that Clarity 4 added.
pub const CLARITY4_KEYWORDS: &[&str] = &["stacks-block-time", "current-contract"];

/// Did Clarity 4 add `name` (a function, allowance or keyword)?
pub fn clarity4_only(name: &str) -> bool {
    CLARITY4_FUNCTIONS.contains(&name) || CLARITY4_KEYWORDS.contains(&name)
}

/// The builtin functions Clarity 4 removed (`as-contract?` replaces `as-contract`).
pub const CLARITY4_REMOVED: &[&str] = &["as-contract"];

/// Is `name` a builtin or keyword of some Clarity version but not of `version` (so an
/// ordinary name in code of that version)?
pub fn absent_in(name: &str, version: u8) -> bool {
    (version < 2 && CLARITY2_ONLY.contains(&name))
        || (version < 3 && CLARITY3_ONLY.contains(&name))
        || (version >= 3 && CLARITY3_REMOVED.contains(&name))
        || (version < 4 && clarity4_only(name))
        || (version >= 4 && CLARITY4_REMOVED.contains(&name))
}

/// The version that introduced `name`, or the one that removed it (for messages).
pub fn version_note(name: &str, version: u8) -> String {
    if CLARITY2_ONLY.contains(&name) {
        format!("'{name}' is Clarity 2 (this contract is Clarity {version})")
    } else if CLARITY3_ONLY.contains(&name) {
        format!("'{name}' is Clarity 3 (this contract is Clarity {version})")
    } else if clarity4_only(name) {
        format!("'{name}' is Clarity 4 (this contract is Clarity {version})")
    } else if CLARITY4_REMOVED.contains(&name) {
        format!("'{name}' was removed in Clarity 4; use as-contract? with allowances")
    } else {
        let instead = if name == "block-height" {
            "stacks-block-height or tenure-height"
        } else {
            "get-stacks-block-info? or get-tenure-info?"
        };
        format!("'{name}' was removed in Clarity 3; use {instead}")
    }
}

/// Makes the names of parsed code of Clarity `version` that are builtins only in other
/// versions ordinary names (`PLAIN`).
pub fn demote_for_version(exprs: &mut [super::parser::Expr], version: u8) {
    use super::parser::ExprKind;
    for e in exprs {
        match &mut e.kind {
            ExprKind::Atom(n) if e.op != PLAIN && absent_in(n, version) => e.op = PLAIN,
            ExprKind::List(items) => demote_for_version(items, version),
            _ => {}
        }
    }
}
