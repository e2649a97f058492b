//! The kinds of node, for the driver's facts about which rules look at
//! which nodes ([`super::algebra`]).

use crate::plan::PlanExpr;

/// The kind of a node: its [`PlanExpr`] variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Const,
    Not,
    And,
    Or,
    Related,
    Field,
    Aggregate,
    Segment,
}

impl Kind {
    pub(crate) fn of(expr: &PlanExpr) -> Kind {
        match expr {
            PlanExpr::Const(_) => Kind::Const,
            PlanExpr::Not(_) => Kind::Not,
            PlanExpr::And(_) => Kind::And,
            PlanExpr::Or(_) => Kind::Or,
            PlanExpr::Related(_) => Kind::Related,
            PlanExpr::Field(_) => Kind::Field,
            PlanExpr::Aggregate(_) => Kind::Aggregate,
            PlanExpr::Segment(_) => Kind::Segment,
        }
    }

    /// Every kind, in the order of [`Kind::index`].
    pub(crate) const ALL: [Kind; 8] = [
        Kind::Const,
        Kind::Not,
        Kind::And,
        Kind::Or,
        Kind::Related,
        Kind::Field,
        Kind::Aggregate,
        Kind::Segment,
    ];

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    fn bit(self) -> u8 {
        1 << self.index()
    }
}

/// A set of [`Kind`]s. The default is every kind: nothing taken for granted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Kinds(u8);

impl Kinds {
    pub(crate) const ALL: Kinds = Kinds(u8::MAX);
    pub(crate) const NONE: Kinds = Kinds(0);

    pub(crate) fn of(kinds: &[Kind]) -> Kinds {
        Kinds(kinds.iter().fold(0, |bits, kind| bits | kind.bit()))
    }

    pub(crate) fn contains(self, kind: Kind) -> bool {
        self.0 & kind.bit() != 0
    }

    /// These kinds and `kind`.
    pub(crate) fn with(self, kind: Kind) -> Kinds {
        Kinds(self.0 | kind.bit())
    }
}

impl Default for Kinds {
    fn default() -> Self {
        Kinds::ALL
    }
}
