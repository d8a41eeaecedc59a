//! The observations the confidence model (see `novelty.rs`) is fitted on: held-out lines as
//! repeats, new variants of known templates, and unseen templates.

use rustc_hash::FxHashMap;

use super::design::Design;
use super::linear::{Link, apply_link, argmax};
use super::novelty::{Observation, Reference, support_features};

/// Held-out observations for the confidence model `P(known | support)` (see `novelty.rs`), from
/// the lines the calibration folds held out (copies of a row in one fold count once, weighted):
/// - *repeats* (known): the line against every row its fold's model trained on, copies of
///   itself included (log data repeats whole lines); weight: its copies;
/// - *new variants* (known): against those rows but its own (a known template with values
///   never seen: host names, users), when its class keeps another row;
/// - *unseen templates* (not known): its class taken away, against the other classes' rows.
///
/// Variants and unseen templates each weigh `prior / (1 - prior)` of the repeats in all,
/// spread evenly over distinct rows so that every template counts, not only frequent ones.
#[allow(clippy::too_many_arguments)] // the fitted pieces of one `fit`
pub(super) fn novelty_observations(
    d: &Design,
    of_sample: &[usize],
    row_weight: &[f64],
    reference: &Reference,
    oof: &[Vec<f64>],
    folds: &[Vec<usize>],
    calibration_rows: &[usize],
    link: &Link,
    prior: f64,
) -> (Vec<Observation>, f64) {
    let mut known: Vec<Observation> = Vec::new();
    let mut unseen: Vec<Observation> = Vec::new();
    let mut variants: Vec<Observation> = Vec::new();
    let mut usable = vec![false; d.y.len()];
    calibration_rows.iter().for_each(|&i| usable[i] = true);
    let mut in_fold = vec![0.0; reference.len()];
    for fold in folds {
        // Reference rows the fold's model trained on: some copy lies outside the fold.
        fold.iter().for_each(|&i| in_fold[of_sample[i]] += 1.0);
        let trained_on = |r: usize| row_weight[r] > in_fold[r];
        let mut class_rows = vec![0usize; d.n_classes];
        (0..reference.len())
            .filter(|&r| trained_on(r))
            .for_each(|r| class_rows[reference.class_of(r)] += 1);
        // Row → its known observation in this fold (`None` when the line is not usable).
        let mut done: FxHashMap<usize, Option<usize>> = FxHashMap::default();
        for &i in fold {
            if oof[i].is_empty() {
                continue;
            }
            if let Some(&at) = done.get(&of_sample[i]) {
                if let Some(at) = at {
                    known[at].weight += 1.0;
                }
                continue;
            }
            let (idx, val) = d.x.row(i);
            let mut p = oof[i].clone();
            apply_link(link, &mut p);
            let y = d.y[i];
            // A known line is a repeat (its copies outside the fold count) and, when its class
            // keeps another row, a new variant (its own row left out). Log data repeats whole
            // lines: without variants the confidence model would never see a known template
            // with new values, and would call every new host name an unseen template.
            let own = of_sample[i];
            done.insert(own, usable[i].then_some(known.len()));
            if usable[i] {
                let best = argmax(&p);
                let (_, support) = reference.nearest(idx, val, 0.0, best, trained_on);
                known.push(Observation {
                    x: support_features(support),
                    hit: true,
                    weight: 1.0,
                });
                let others = class_rows[y] - usize::from(trained_on(own));
                if others > 0 {
                    let (_, support) =
                        reference.nearest(idx, val, 0.0, best, |r| r != own && trained_on(r));
                    variants.push(Observation {
                        x: support_features(support),
                        hit: true,
                        weight: 1.0,
                    });
                }
            }
            if p.len() > 1 && p[y] < 1.0 {
                p[y] = 0.0;
                let best = argmax(&p);
                let (_, support) = reference.nearest(idx, val, 0.0, best, |r| {
                    trained_on(r) && reference.class_of(r) != y
                });
                unseen.push(Observation {
                    x: support_features(support),
                    hit: false,
                    weight: 1.0,
                });
            }
        }
        fold.iter().for_each(|&i| in_fold[of_sample[i]] = 0.0);
    }
    let known_weight: f64 = known.iter().map(|o| o.weight).sum();
    let share = known_weight * prior / (1.0 - prior);
    let unseen_part = unseen_template_share(reference);
    for (group, part) in [
        (&mut unseen, unseen_part),
        (&mut variants, 1.0 - unseen_part),
    ] {
        let each = 2.0 * part * share / group.len().max(1) as f64;
        group.iter_mut().for_each(|o| o.weight = each);
    }
    let floor = support_floor(&variants);
    known.extend(variants);
    known.extend(unseen);
    (known, floor)
}

/// Of the new (non-repeated) lines, the share expected to come from templates the training data
/// never showed: the Good-Turing estimate over the distinct training rows (the share of rows
/// whose class has no other row: how often a new row brought a new template), never below
/// [`MIN_UNSEEN_SHARE`]. A system's own history says nothing of the lines of a system it never
/// saw, whose templates can be near copies of known ones (sshd's `authentication failure` in a
/// Linux syslog and in an OpenSSH log).
pub(super) fn unseen_template_share(reference: &Reference) -> f64 {
    let mut rows_of: FxHashMap<usize, usize> = FxHashMap::default();
    (0..reference.len()).for_each(|r| *rows_of.entry(reference.class_of(r)).or_default() += 1);
    let singles = rows_of.values().filter(|&&n| n == 1).count();
    (singles as f64 / reference.len().max(1) as f64).clamp(MIN_UNSEEN_SHARE, 1.0)
}

/// Lower bound of [`unseen_template_share`] (measured on the Loghub protocols in
/// `docs/benchmarks.md`: below 0.3 lines of one system pass as near-duplicate templates of
/// another; above it, known templates with new values lose confidence they deserve).
pub(super) const MIN_UNSEEN_SHARE: f64 = 0.3;

/// The support below which no known line was seen (the 5th percentile of the new variants'
/// support): the confidence model has no evidence there, and where support does not separate
/// known from unseen templates its fit is flat, so without this bound a line sharing nothing
/// with the training data would keep the confidence of a close variant. 0 when there are no
/// variants (every class one distinct row).
pub(super) fn support_floor(variants: &[Observation]) -> f64 {
    let mut s: Vec<f64> = variants.iter().map(|o| o.x[0]).collect();
    if s.is_empty() {
        return 0.0;
    }
    s.sort_by(f64::total_cmp);
    s[(s.len() - 1) * 5 / 100]
}
