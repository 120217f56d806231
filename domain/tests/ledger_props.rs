//! Property test of the points ledger: random sequences of credits, redemptions,
//! cancellations (refunds), expiries, reversals and negative adjustments, with every
//! invariant checked after each step:
//! - the postings of every transaction sum to zero and all balances together sum to zero;
//! - every account's balance equals the sum of its postings;
//! - no resident, programme or sink balance is negative; lots stay within `0..=points`;
//! - a resident's balance equals what is left of their lots;
//! - reconciliation holds in every district (issued = held + redeemed + expired).
//!
//! Runs on SQLite always and on PostgreSQL when `WUFEI_TEST_DATABASE_URL` is set (fewer
//! cases: each needs a fresh database).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use proptest::prelude::*;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, Set,
    TransactionTrait,
};
use uuid::Uuid;
use wufei_domain::{
    db,
    entities::{ledger_account, ledger_posting, point_lot, user},
    ledger::{
        self, AccountKind, AccountRef, Credit, NewTransaction, Sink, TxKind, lots::Draw,
        reconcile::reconcile,
    },
    points::expiry::expire_due,
};

const DISTRICTS: [&str; 3] = ["371502", "371521", "371522"];
const RESIDENTS: usize = 3;

#[derive(Debug, Clone)]
enum Op {
    /// Credit points earned `days_ago` days ago from a district's budget.
    Credit {
        resident: usize,
        district: usize,
        points: i64,
        days_ago: i64,
    },
    /// Redeem points (refused when the balance is short).
    Redeem { resident: usize, points: i64 },
    /// Cancel the n-th redemption (refund), if any and not cancelled yet.
    Cancel { n: usize },
    /// Reverse the n-th credit, if any and not reversed yet.
    Reverse { n: usize },
    /// An administrator takes points back to the budgets.
    Debit { resident: usize, points: i64 },
    /// Run expiry now.
    Expire,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..RESIDENTS, 0..DISTRICTS.len(), 1i64..500, 0i64..4).prop_map(
            |(resident, district, points, days_ago)| Op::Credit { resident, district, points, days_ago }
        ),
        3 => (0..RESIDENTS, 1i64..400).prop_map(|(resident, points)| Op::Redeem { resident, points }),
        1 => (0usize..8).prop_map(|n| Op::Cancel { n }),
        1 => (0usize..8).prop_map(|n| Op::Reverse { n }),
        1 => (0..RESIDENTS, 1i64..200).prop_map(|(resident, points)| Op::Debit { resident, points }),
        1 => Just(Op::Expire),
    ]
}

fn rules() -> ledger::Rules {
    ledger::Rules {
        // Points earned 2 or 3 days "ago" are already expired; 0 or 1 are not.
        expiry: Duration::days(2),
        initial_budget: 5_000,
    }
}

struct World {
    db: DatabaseConnection,
    residents: Vec<Uuid>,
    credits: Vec<(Uuid, bool)>,
    redemptions: Vec<(Uuid, bool)>,
}

async fn fresh(url: &str) -> World {
    let db = db::connect(url, 5).await.unwrap();
    db::migrate(&db).await.unwrap();
    wufei_domain::seed::reference(&db).await.unwrap();
    let mut residents = Vec::new();
    for _ in 0..RESIDENTS {
        let id = Uuid::now_v7();
        user::ActiveModel {
            id: Set(id),
            role: Set(user::Role::Resident),
            admin_scope: Set(None),
            district_code: Set(None),
            phone: Set(None),
            password_hash: Set(None),
            wechat_openid: Set(Some(format!("openid-{id}"))),
            wechat_unionid: Set(None),
            nickname: Set(String::new()),
            avatar_url: Set(None),
            status: Set(user::Status::Active),
            created_at: Set(Utc::now()),
            updated_at: Set(Utc::now()),
            tokens_valid_after: Set(None),
        }
        .insert(&db)
        .await
        .unwrap();
        residents.push(id);
    }
    World {
        db,
        residents,
        credits: Vec::new(),
        redemptions: Vec::new(),
    }
}

/// Applies one step; business refusals (409) are fine and must change nothing.
async fn apply(w: &mut World, op: &Op) {
    let r = rules();
    let txn = w.db.begin().await.unwrap();
    let result = match op {
        Op::Credit {
            resident,
            district,
            points,
            days_ago,
        } => ledger::post_credits(
            &txn,
            &r,
            NewTransaction::new(format!("test:{}", Uuid::now_v7()), TxKind::Settlement, ""),
            &[Credit {
                resident_id: w.residents[*resident],
                district_code: DISTRICTS[*district].into(),
                points: *points,
                earned_at: Utc::now() - Duration::days(*days_ago),
            }],
            &[],
        )
        .await
        .map(|t| w.credits.push((t.id, false))),
        Op::Redeem { resident, points } => ledger::post_debit(
            &txn,
            &r,
            NewTransaction::new(format!("test:{}", Uuid::now_v7()), TxKind::Redemption, ""),
            w.residents[*resident],
            *points,
            Sink::Redemption,
            Draw::Oldest,
            &[],
        )
        .await
        .map(|t| w.redemptions.push((t.id, false))),
        Op::Debit { resident, points } => ledger::post_debit(
            &txn,
            &r,
            NewTransaction::new(format!("test:{}", Uuid::now_v7()), TxKind::Adjustment, ""),
            w.residents[*resident],
            *points,
            Sink::Programme,
            Draw::Oldest,
            &[],
        )
        .await
        .map(|_| ()),
        Op::Cancel { n } | Op::Reverse { n } => {
            let list = if matches!(op, Op::Cancel { .. }) {
                &mut w.redemptions
            } else {
                &mut w.credits
            };
            match list.get_mut(*n) {
                Some((id, done)) if !*done => {
                    let original =
                        wufei_domain::entities::ledger_transaction::Entity::find_by_id(*id)
                            .one(&txn)
                            .await
                            .unwrap()
                            .unwrap();
                    let kind = if matches!(op, Op::Cancel { .. }) {
                        TxKind::Refund
                    } else {
                        TxKind::Reversal
                    };
                    let res = ledger::reverse(
                        &txn,
                        &r,
                        &original,
                        NewTransaction::new(format!("test:{}", Uuid::now_v7()), kind, ""),
                    )
                    .await;
                    if res.is_ok() {
                        *done = true;
                    }
                    res.map(|_| ())
                }
                _ => Ok(()),
            }
        }
        Op::Expire => {
            txn.rollback().await.unwrap();
            expire_due(&w.db, &r, Utc::now()).await.unwrap();
            return;
        }
    };
    match result {
        Ok(()) => txn.commit().await.unwrap(),
        Err(wufei_domain::Error::Conflict { code, .. }) => {
            assert!(
                matches!(
                    code,
                    "insufficient_points" | "insufficient_balance" | "budget_exhausted"
                ),
                "unexpected refusal {code} for {op:?}"
            );
            txn.rollback().await.unwrap();
            // A refused reversal may be retried later; undo the bookkeeping.
            if let Op::Cancel { n } | Op::Reverse { n } = op {
                let list = if matches!(op, Op::Cancel { .. }) {
                    &mut w.redemptions
                } else {
                    &mut w.credits
                };
                if let Some(e) = list.get_mut(*n) {
                    e.1 = false;
                }
            }
        }
        Err(e) => panic!("{op:?} failed: {e:?}"),
    }
}

async fn check(w: &World, after: &Op) {
    let accounts = ledger_account::Entity::find().all(&w.db).await.unwrap();
    let postings = ledger_posting::Entity::find().all(&w.db).await.unwrap();
    let lots = point_lot::Entity::find().all(&w.db).await.unwrap();
    let mut from_postings: BTreeMap<Uuid, i64> = BTreeMap::new();
    for p in &postings {
        assert!(p.amount > 0, "non-positive posting after {after:?}");
        *from_postings.entry(p.debit_account_id).or_default() -= p.amount;
        *from_postings.entry(p.credit_account_id).or_default() += p.amount;
    }
    let mut total = 0;
    for a in &accounts {
        total += a.balance;
        assert_eq!(
            a.balance,
            from_postings.get(&a.id).copied().unwrap_or(0),
            "balance of {} differs from its postings after {after:?}",
            a.key
        );
        if a.kind != AccountKind::Appropriation && a.kind != AccountKind::FeePayable {
            assert!(a.balance >= 0, "{} is negative after {after:?}", a.key);
        }
        if a.kind == AccountKind::Resident {
            let held: i64 = lots
                .iter()
                .filter(|l| l.account_id == a.id)
                .map(|l| l.remaining)
                .sum();
            assert_eq!(
                a.balance, held,
                "{} differs from its lots after {after:?}",
                a.key
            );
        }
    }
    assert_eq!(total, 0, "balances do not sum to zero after {after:?}");
    for l in &lots {
        assert!(
            (0..=l.points).contains(&l.remaining),
            "lot out of bounds after {after:?}"
        );
    }
    let books = reconcile(&w.db, None).await.unwrap();
    assert!(
        books.balanced,
        "books do not balance after {after:?}: {books:#?}"
    );
}

async fn run(url: &str, ops: &[Op]) {
    let mut w = fresh(url).await;
    for op in ops {
        apply(&mut w, op).await;
        check(&w, op).await;
    }
    // Every resident account exists only through the ledger; none was written directly.
    for r in &w.residents {
        let _ = ledger::find_account(&w.db, &AccountRef::resident(*r).key).await;
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn ledger_invariants_hold_on_sqlite(ops in prop::collection::vec(op(), 1..40)) {
        runtime().block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("l.db").display());
            run(&url, &ops).await;
        });
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn ledger_invariants_hold_on_postgres(ops in prop::collection::vec(op(), 1..30)) {
        let Ok(base) = std::env::var("WUFEI_TEST_DATABASE_URL") else {
            eprintln!("skipped: ledger properties on PostgreSQL (set WUFEI_TEST_DATABASE_URL)");
            return Ok(());
        };
        runtime().block_on(async {
            let name = format!("wufei_l_{}", Uuid::new_v4().simple());
            let admin = Database::connect(&base).await.unwrap();
            admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
            let url = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);
            run(&url, &ops).await;
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        });
    }
}

/// The database itself refuses to rewrite history or overdraw, whatever the code does.
#[test]
fn the_database_refuses_edits_and_overdrafts() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("i.db").display());
        let mut w = fresh(&url).await;
        apply(
            &mut w,
            &Op::Credit {
                resident: 0,
                district: 0,
                points: 100,
                days_ago: 0,
            },
        )
        .await;
        for sql in [
            "UPDATE ledger_postings SET amount = 1",
            "DELETE FROM ledger_postings",
            "UPDATE ledger_transactions SET memo = 'x'",
            "DELETE FROM ledger_transactions",
            "UPDATE ledger_accounts SET balance = -5 WHERE kind = 'resident'",
            "UPDATE point_lots SET remaining = points + 1",
        ] {
            assert!(
                w.db.execute_unprepared(sql).await.is_err(),
                "the database accepted {sql}"
            );
        }
        check(&w, &Op::Expire).await;
    });
}
