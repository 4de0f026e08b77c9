//! An analysed contract: its definitions with their types.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::parser::{Expr, Span};
use super::types::{Name, Principal, TraitId, Type, Value};

/// Who may call a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    ReadOnly,
    Private,
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Public => "public",
            Access::ReadOnly => "read_only",
            Access::Private => "private",
        }
    }
}

/// A user-defined function.
#[derive(Debug, Clone)]
pub struct FnDef {
    pub name: Name,
    pub access: Access,
    pub args: Vec<(Name, Type)>,
    /// Inferred when the body is checked.
    pub ret: Type,
    pub body: Expr,
    pub span: Span,
    /// Whether the function may write state.
    pub writes: bool,
    /// An argument name given twice: analysis accepts it, a call fails.
    pub duplicate_arg: Option<Name>,
}

/// A function of a trait.
#[derive(Debug, Clone, PartialEq)]
pub struct TraitFn {
    pub args: Vec<Type>,
    pub ret: Type,
}

/// A trait: function name to signature.
pub type TraitSig = BTreeMap<Name, TraitFn>;

/// A top-level form evaluated at deploy time.
#[derive(Debug, Clone)]
pub enum TopItem {
    Constant(Name, Expr),
    DataVar(Name, Expr),
    Ft(Name, Option<Expr>),
    Expr(Expr),
}

/// An analysed contract.
#[derive(Debug, Clone)]
pub struct Contract {
    pub id: Principal,
    /// `id` as text (state keys and events name the contract by it).
    pub id_text: Arc<str>,
    pub source: String,
    /// The Clarity version the contract was written in (1, 2 or 3): which builtins and
    /// keywords its names mean.
    pub version: u8,
    pub fns: BTreeMap<Name, Arc<FnDef>>,
    pub const_types: BTreeMap<Name, Type>,
    /// Filled in at deploy (or when reloaded from the store).
    pub constants: BTreeMap<Name, Value>,
    pub vars: BTreeMap<Name, Type>,
    pub maps: BTreeMap<Name, (Type, Type)>,
    pub fts: BTreeMap<Name, bool>,
    pub nfts: BTreeMap<Name, Type>,
    pub traits: BTreeMap<Name, TraitSig>,
    pub use_traits: BTreeMap<Name, TraitId>,
    pub impl_traits: Vec<TraitId>,
    /// Deploy-time evaluation order.
    pub top: Vec<TopItem>,
}

impl Contract {
    pub fn new(id: Principal, source: String) -> Self {
        Contract {
            id_text: id.to_string().into(),
            id,
            source,
            version: 2,
            fns: BTreeMap::new(),
            const_types: BTreeMap::new(),
            constants: BTreeMap::new(),
            vars: BTreeMap::new(),
            maps: BTreeMap::new(),
            fts: BTreeMap::new(),
            nfts: BTreeMap::new(),
            traits: BTreeMap::new(),
            use_traits: BTreeMap::new(),
            impl_traits: Vec::new(),
            top: Vec::new(),
        }
    }

    /// Does this contract's public functions satisfy `sig`?
    pub fn conforms_to(&self, sig: &TraitSig) -> Result<(), String> {
        for (name, tf) in sig {
            let Some(f) = self.fns.get(name) else {
                return Err(format!(
                    "{} does not define public function {name}",
                    self.id
                ));
            };
            if f.access == Access::Private {
                return Err(format!("{}.{name} is private", self.id));
            }
            // Trait references (top-level or inside compound types) are compared as the
            // contract principals they carry.
            let args_ok = f.args.len() == tf.args.len()
                && f.args
                    .iter()
                    .zip(tf.args.iter())
                    .all(|((_, have), want)| have.without_traits().admits(&want.without_traits()));
            if !args_ok || !tf.ret.admits(&f.ret) {
                return Err(format!(
                    "{}.{name} has a signature incompatible with the trait",
                    self.id
                ));
            }
        }
        Ok(())
    }
}
