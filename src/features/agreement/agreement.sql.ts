/**
 * Inter-annotator agreement in one SQL statement, set-based: the responses are grouped
 * into per-unit value counts, the counts into the coincidence-matrix marginals, and
 * every figure is a closed form over those sums. Nothing is per row in TypeScript and
 * nothing is a loop: 100,000 rows cost the same few hash aggregates as 10.
 *
 * Vocabulary (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability"):
 * - a *unit* is one row of one job, (job_id, row_index): a table row annotated in two
 *   jobs is two units;
 * - a *value* is one annotator's answer to the question in that unit; an answer that is
 *   missing, null or not of the question's type (a string for `label`, a number for
 *   `rating` and `number`, an array for `multi_label`) is a missing value;
 * - a unit is *pairable* when it has at least two values (m_u ≥ 2); only pairable
 *   units count, for every figure: a lone value can be compared with nothing.
 * - a `multi_label` question is one nominal "question" per option: an answer's value
 *   is whether it includes the option (true/false).
 *
 * With n_uc the number of values c in unit u, m_u = Σ_c n_uc, n_c = Σ_u n_uc over the
 * pairable units and n = Σ_c n_c:
 *
 * Krippendorff's α = 1 − D_o / D_e = 1 − (n − 1) · Σ_ck o_ck δ²_ck / Σ_ck n_c n_k δ²_ck,
 * the coincidence matrix o_ck = Σ_u (number of c–k pairs of distinct values in u) / (m_u − 1).
 * No matrix is built: every metric used here is a squared distance between points,
 * δ²_ck = (y_c − y_k)², so the sums over value pairs collapse to sums of squares:
 *   Σ_{i≠j in u} (y_i − y_j)² = 2 (m_u Σ y² − (Σ y)²)   (observed, per unit)
 *   Σ_{i,j over all}  (y_i − y_j)² = 2 (n Σ y² − (Σ y)²)   (expected)
 * and the factor 2 cancels. The metrics:
 * - nominal (`label`, `multi_label` options): y is the one-hot vector of the category,
 *   so Σ y² = m and (Σ y)² = Σ_c n_uc²: observed m_u² − Σ_c n_uc², expected n² − Σ_c n_c²
 *   (δ² = 1 for any two different categories, up to the same factor 2);
 * - interval (`number`): y is the value itself;
 * - ordinal (`rating`): Krippendorff's δ_ck = Σ_{g=c..k} n_g − (n_c + n_k)/2 equals
 *   F(k) − F(c) with F(c) = Σ_{g<c} n_g + n_c/2 (the value's mid-rank among the pairable
 *   values), so y = F(value) and the interval sums apply.
 * α is null when D_e = 0 (every pairable value the same, or no pairable unit).
 *
 * Percent agreement: the share of agreeing pairs among all pairs of values within a
 * unit, over every pairable unit (pairwise, pooled): Σ_u Σ_c n_uc (n_uc − 1) /
 * Σ_u m_u (m_u − 1). Two values agree when equal (numbers by value: 4 and 4.0 agree).
 *
 * Fleiss' κ (1971), when every pairable unit has the same number k of values (else
 * null): P̄ = mean over units of Σ_c n_uc (n_uc − 1) / (k (k − 1)), which for a
 * constant k is the percent agreement above; P_e = Σ_c (n_c / n)²; κ = (P̄ − P_e) / (1 − P_e),
 * null when P_e = 1. Every distinct value is a category (nominal), whatever the type.
 *
 * Cohen's κ (1960), per pair of annotators over the units both answered: with `rows`
 * such units, `agree` of them equal and a_c, b_c how often each chose c,
 * p_o = agree / rows, p_e = Σ_c a_c b_c / rows², κ = (p_o − p_e) / (1 − p_e)
 * = (rows·agree − Σ_c a_c b_c) / (rows² − Σ_c a_c b_c), null when p_e = 1. Unweighted
 * (nominal) for every type. A question's overall `cohen_kappa` is its one pair's when
 * exactly two annotators gave pairable values (then every pairable unit is theirs).
 *
 * All arithmetic is `numeric` (exact sums of squares: no cancellation however large the
 * numbers); only the final figures become double precision.
 */
import { sql, type SQL } from "drizzle-orm";

/** The figures over the responses of the jobs in the CTE `readable` (job_id) to the questions of the CTE `qs`. */
const FIGURES = sql`
  -- One value per (question entry, unit, annotator); see the type rules above.
  vals as (
    select q.qid, a.job_id, a.row_index, a.annotator_id,
      case when q.option is null then a.data -> q.name else to_jsonb(a.data -> q.name @> jsonb_build_array(q.option)) end as cat,
      case when q.metric <> 'nominal' then (a.data ->> q.name)::numeric end as x
    from annotation a
    join readable r on r.job_id = a.job_id
    join qs q on jsonb_typeof(a.data -> q.name) = case q.type when 'label' then 'string' when 'multi_label' then 'array' else 'number' end
  ),
  -- n_uc: how many values c unit u has.
  cells as (
    select qid, job_id, row_index, cat, min(x) as x, count(*)::numeric as n from vals group by qid, job_id, row_index, cat
  ),
  -- The pairable units (m_u ≥ 2) with m_u and Σ_c n_uc².
  units as (
    select qid, job_id, row_index, sum(n) as m, sum(n * n) as nn from cells group by qid, job_id, row_index having sum(n) >= 2
  ),
  pairable as (
    select c.qid, c.job_id, c.row_index, c.cat, c.x, c.n, u.m, u.nn from cells c join units u using (qid, job_id, row_index)
  ),
  -- n_c, and each category's position y on the metric's line (interval: the value; ordinal: its mid-rank F).
  marginals as (
    select p.qid, p.cat, min(p.x) as x, sum(p.n) as n from pairable p group by p.qid, p.cat
  ),
  scaled as (
    select m.qid, m.cat, m.n, case q.metric
        when 'interval' then m.x
        when 'ordinal' then sum(m.n) over (partition by m.qid order by m.x) - m.n / 2 end as y
    from marginals m join qs q using (qid)
  ),
  -- Per unit: Σ y and Σ y² over its values.
  unit_sums as (
    select p.qid, p.m, p.nn, sum(p.n * s.y) as sy, sum(p.n * s.y * s.y) as syy
    from pairable p join scaled s using (qid, cat)
    group by p.qid, p.job_id, p.row_index, p.m, p.nn
  ),
  -- Units grouped by m_u, so that each question divides by (m_u − 1) once per distinct m_u.
  by_size as (
    select qid, m, count(*)::numeric as units, sum(nn) as nn, sum(m * m - nn) as nominal_d, sum(m * syy - sy * sy) as metric_d
    from unit_sums group by qid, m
  ),
  observed as (
    select qid, sum(units) as rows, sum(units * m) as n, min(m) as min_m, max(m) as max_m,
      sum(nominal_d / (m - 1)) as nominal_do, sum(metric_d / (m - 1)) as metric_do,
      sum(nn - units * m) as agreeing_pairs, sum(units * m * (m - 1)) as pairs
    from by_size group by qid
  ),
  expected as (
    select s.qid, sum(s.n * s.n) as nc2, sum(s.n * s.y) as sy, sum(s.n * s.y * s.y) as syy from scaled s group by s.qid
  ),
  -- Each pair of annotators' values in the units both answered (annotator_a < annotator_b).
  pair_values as (
    select a.qid, a.annotator_id as ra, b.annotator_id as rb, a.cat as ca, b.cat as cb
    from vals a join vals b on b.qid = a.qid and b.job_id = a.job_id and b.row_index = a.row_index and b.annotator_id > a.annotator_id
  ),
  pair_totals as (
    select qid, ra, rb, count(*)::numeric as rows, (count(*) filter (where ca = cb))::numeric as agree from pair_values group by qid, ra, rb
  ),
  -- a_c and b_c per pair, then Σ_c a_c b_c.
  pair_marginals as (
    select qid, ra, rb, cat, sum(na) as na, sum(nb) as nb
    from (select qid, ra, rb, ca as cat, 1 as na, 0 as nb from pair_values
      union all select qid, ra, rb, cb, 0, 1 from pair_values) sides
    group by qid, ra, rb, cat
  ),
  pair_expected as (
    select qid, ra, rb, sum(na::numeric * nb) as ee from pair_marginals group by qid, ra, rb
  ),
  pairs as (
    select t.qid, t.ra, t.rb, t.rows,
      case when t.rows * t.rows <> e.ee then (t.rows * t.agree - e.ee) / (t.rows * t.rows - e.ee) end as kappa
    from pair_totals t join pair_expected e using (qid, ra, rb)
  ),
  raters as (
    select qid, count(distinct annotator_id) as raters
    from (select qid, ra as annotator_id from pairs union all select qid, rb from pairs) r group by qid
  ),
  figures as (
    select q.qid, q.name, q.type, q.option, coalesce(r.raters, 0) as raters, coalesce(o.rows, 0) as rows,
      o.agreeing_pairs / nullif(o.pairs, 0) as percent_agreement,
      case q.metric
        when 'nominal' then 1 - (o.n - 1) * o.nominal_do / nullif(o.n * o.n - e.nc2, 0)
        else 1 - (o.n - 1) * o.metric_do / nullif(o.n * e.syy - e.sy * e.sy, 0) end as krippendorff_alpha,
      case when o.min_m = o.max_m and o.n * o.n <> e.nc2
        then (o.agreeing_pairs / o.pairs - e.nc2 / (o.n * o.n)) / (1 - e.nc2 / (o.n * o.n)) end as fleiss_kappa,
      case when r.raters = 2 then (select p.kappa from pairs p where p.qid = q.qid) end as cohen_kappa
    from qs q left join observed o using (qid) left join expected e using (qid) left join raters r using (qid)
  )`;

/**
 * The questions a figure set is computed for, from the label schema `questions` (jsonb)
 * of the CTE `proj`: `label`, `rating`, `number` as they are, `multi_label` once per
 * option; `question` narrows to one name. `qid` orders them as the schema does.
 */
function questionEntries(question: string | null): SQL {
  return sql`qs as (
    select row_number() over (order by s.position, o.position) as qid, s.q ->> 'name' as name, s.q ->> 'type' as type,
      o.option, case s.q ->> 'type' when 'rating' then 'ordinal' when 'number' then 'interval' else 'nominal' end as metric
    from proj cross join jsonb_array_elements(proj.questions) with ordinality s(q, position)
    left join lateral (select e.option, e.position from jsonb_array_elements(s.q -> 'options') with ordinality e(option, position)
      where s.q ->> 'type' = 'multi_label') o on true
    where s.q ->> 'type' in ('label', 'multi_label', 'rating', 'number')
      ${question === null ? sql`` : sql`and s.q ->> 'name' = ${question}`}
  )`;
}

/**
 * The statement: `scope` is SQL for CTEs that include `proj` (the project if visible,
 * with its label schema's `questions`) and `readable` (the ids of the jobs whose
 * responses the caller reads in full); it selects one row: `access` (columns over those
 * CTEs, for the service's 404/403/422), `questions` and `pairs` (jsonb).
 */
export function agreementStatement(scope: SQL, access: SQL, question: string | null): SQL {
  return sql`with ${scope}, ${questionEntries(question)}, ${FIGURES}
    select ${access},
      coalesce((select jsonb_agg(jsonb_build_object(
          'name', f.name, 'type', f.type, 'option', f.option, 'raters', f.raters, 'rows', f.rows,
          'percent_agreement', f.percent_agreement::float8, 'krippendorff_alpha', f.krippendorff_alpha::float8,
          'fleiss_kappa', f.fleiss_kappa::float8, 'cohen_kappa', f.cohen_kappa::float8) order by f.qid)
        from figures f), '[]'::jsonb) as questions,
      coalesce((select jsonb_agg(jsonb_build_object(
          'question', q.name, 'option', q.option, 'annotator_a', p.ra, 'annotator_b', p.rb, 'rows', p.rows,
          'cohen_kappa', p.kappa::float8) order by p.qid, p.ra, p.rb)
        from pairs p join qs q using (qid)), '[]'::jsonb) as pairs`;
}
