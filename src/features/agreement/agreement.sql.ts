/**
 * Inter-annotator agreement in one SQL statement, set-based. Every figure is built from
 * one table: the pairs of values given to the same unit (a self-join of the values),
 * counted in one pass two ways — by (m_u, value a, value b), which is Krippendorff's
 * coincidence matrix, and by (annotator pair, value a, value b), which is each pair's
 * contingency table for Cohen's κ. Both are small (values² rows per question, pairs ×
 * values² rows); the formulas below run on them. Nothing is per row in TypeScript and
 * nothing loops: 100,000 rows cost the same few hash joins and aggregates as 10.
 *
 * Vocabulary (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability"):
 * - a *unit* is one row of one job, (job_id, row_index): a table row annotated in two
 *   jobs is two units;
 * - a *value* is one annotator's answer to the question in that unit; an answer that is
 *   missing, null or not of the question's type (a string for `label`, a number for
 *   `rating` and `number`, an array for `multi_label`) is a missing value;
 * - a unit is *pairable* when it has at least two values (m_u ≥ 2); only pairable
 *   units count, for every figure: a lone value can be compared with nothing;
 * - a `multi_label` question is one nominal "question" per option: an answer's value
 *   is whether it includes the option (true/false).
 *
 * With n_uc the number of values c in unit u, m_u = Σ_c n_uc, n_c = Σ_u n_uc over the
 * pairable units and n = Σ_c n_c:
 *
 * Krippendorff's α = 1 − D_o / D_e = 1 − (n − 1) · Σ_ck o_ck δ²_ck / Σ_ck n_c n_k δ²_ck,
 * with the coincidence matrix o_ck = Σ_u (ordered c–k pairs of distinct values in u) / (m_u − 1):
 * an unordered pair {a, b} in a unit of m_u values adds 1/(m_u − 1) to o_ab and to o_ba,
 * so Σ_ck o_ck δ²_ck = 2 Σ_pairs δ²_ab / (m_u − 1). n_c = Σ_k o_ck is exact in integers:
 * a value is an end of m_u − 1 pairs of its unit. The metrics:
 * - nominal (`label`, `multi_label` options): δ² = 1 between different values, so the
 *   expected sum is n² − Σ_c n_c²;
 * - interval (`number`): δ²_ck = (c − k)²; ordinal (`rating`): Krippendorff's
 *   δ_ck = Σ_{g=c..k} n_g − (n_c + n_k)/2, which equals F(k) − F(c) with
 *   F(c) = Σ_{g<c} n_g + n_c/2 (the value's mid-rank among the pairable values). Both are
 *   squared distances between positions y on a line (the value, or F), so the expected
 *   sum is Σ_ck n_c n_k (y_c − y_k)² = 2 (n Σ_c n_c y_c² − (Σ_c n_c y_c)²), and the 2s cancel.
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
 * Counts are integers and everything else `numeric` (exact: no cancellation in the sums
 * of squares however large the numbers); only the final figures become double precision.
 */
import { sql, type SQL } from "drizzle-orm";

/** The figures over the responses of the jobs in the CTE `readable` (job_id) to the questions of the CTE `qs`. */
const FIGURES = sql`
  -- One value per (question entry, unit, annotator); see the type rules above. Nominal
  -- values are text (cat), numeric ones numbers (x): exactly one of the two is set.
  vals as (
    select q.qid, a.job_id, a.row_index, a.annotator_id,
      case q.type when 'label' then kv.value #>> '{}'
        when 'multi_label' then (kv.value @> jsonb_build_array(q.option))::text end as cat,
      case when q.metric <> 'nominal' then (kv.value #>> '{}')::numeric end as x
    from annotation a
    join readable r on r.job_id = a.job_id
    -- Each response's answers once (one call per response, not one lookup per question).
    cross join lateral jsonb_each(case when jsonb_typeof(a.data) = 'object' then a.data else '{}'::jsonb end) kv
    join qs q on q.name = kv.key
      and jsonb_typeof(kv.value) = case q.type when 'label' then 'string' when 'multi_label' then 'array' else 'number' end
  ),
  -- m_u of the pairable units.
  units as (
    select qid, job_id, row_index, count(*) as m from vals group by qid, job_id, row_index having count(*) >= 2
  ),
  -- Every unordered pair of values in a unit, once (annotator_a < annotator_b), with m_u.
  pair_values as (
    select a.qid, u.m, a.annotator_id as ra, b.annotator_id as rb, a.cat as ca, b.cat as cb, a.x as xa, b.x as xb
    from vals a
    join vals b on b.qid = a.qid and b.job_id = a.job_id and b.row_index = a.row_index and b.annotator_id > a.annotator_id
    join units u on u.qid = a.qid and u.job_id = a.job_id and u.row_index = a.row_index
  ),
  -- The pairs counted in one pass two ways: by (m_u, value a, value b), the coincidences
  -- (a pair in a unit of m_u values adds 1/(m_u − 1) to o_ab and to o_ba), and by
  -- annotator pair and values, each pair's contingency table (Cohen).
  pair_groups as (
    select qid, m, ra, rb, ca, cb, xa, xb, count(*) as n, grouping(m) = 1 as by_annotators
    from pair_values group by grouping sets ((qid, m, ca, cb, xa, xb), (qid, ra, rb, ca, cb, xa, xb))
  ),
  coincidences as (
    select qid, m, ca, cb, xa, xb, n, ca is not distinct from cb and xa is not distinct from xb as same
    from pair_groups where not by_annotators
  ),
  -- n_c: each value of a unit of m_u values is in m_u − 1 of its pairs, so the count of
  -- pair ends with value c, divided by m_u − 1 (exactly: it is a multiple), is n_c.
  marginals as (
    select qid, cat, x, sum(ends / (m - 1)) as n
    from (select qid, m, cat, x, sum(n) as ends
      from (select qid, m, ca as cat, xa as x, n from coincidences union all select qid, m, cb, xb, n from coincidences) e
      group by qid, m, cat, x) by_size
    group by qid, cat, x
  ),
  -- Each numeric value's position y on the metric's line: interval, the value; ordinal,
  -- twice its mid-rank F (an integer; the factor 2 cancels in α).
  scaled as (
    select m.qid, m.x, m.n, case q.metric
        when 'interval' then m.x
        else 2 * sum(m.n) over (partition by m.qid order by m.x) - m.n end as y
    from marginals m join qs q using (qid)
    where q.metric <> 'nominal'
  ),
  observed as (
    select c.qid, min(c.m) as min_m, max(c.m) as max_m, sum(c.n) as pairs, sum(c.n) filter (where c.same) as agreeing_pairs,
      -- Σ_{a≠b} o_ab: nominal disagreement (δ = 1 between different values), halved.
      coalesce(sum(c.n::numeric / (c.m - 1)) filter (where not c.same), 0) as nominal_do,
      -- Σ o_ab (y_a − y_b)², halved.
      coalesce(sum(c.n * (sb.y - sa.y) * (sb.y - sa.y) / (c.m - 1)), 0) as metric_do
    from coincidences c
    left join scaled sa on sa.qid = c.qid and sa.x = c.xa
    left join scaled sb on sb.qid = c.qid and sb.x = c.xb
    group by c.qid
  ),
  expected as (
    select m.qid, sum(m.n) as n, sum(m.n * m.n) as nc2, sum(m.n * s.y) as sy, sum(m.n * s.y * s.y) as syy
    from marginals m left join scaled s on s.qid = m.qid and s.x = m.x group by m.qid
  ),
  unit_counts as (
    select qid, count(*) as rows from units group by qid
  ),
  -- Cohen's κ per annotator pair from its contingency table: rows, agreeing rows, and
  -- Σ_c a_c b_c from the table's margins.
  contingency as (
    select qid, ra, rb, ca, cb, xa, xb, n from pair_groups where by_annotators
  ),
  pair_margins as (
    select qid, ra, rb, cat, x, sum(na) as na, sum(nb) as nb
    from (select qid, ra, rb, ca as cat, xa as x, n as na, 0 as nb from contingency
      union all select qid, ra, rb, cb, xb, 0, n from contingency) sides
    group by qid, ra, rb, cat, x
  ),
  pairs as (
    select t.qid, t.ra, t.rb, t.rows,
      case when t.rows * t.rows <> e.ee then (t.rows * t.agree - e.ee)::numeric / (t.rows * t.rows - e.ee) end as kappa
    from (select qid, ra, rb, sum(n) as rows,
        coalesce(sum(n) filter (where ca is not distinct from cb and xa is not distinct from xb), 0) as agree
      from contingency group by qid, ra, rb) t
    join (select qid, ra, rb, sum(na * nb) as ee from pair_margins group by qid, ra, rb) e using (qid, ra, rb)
  ),
  raters as (
    select qid, count(distinct annotator_id) as raters
    from (select qid, ra as annotator_id from pairs union all select qid, rb from pairs) r group by qid
  ),
  figures as (
    select q.qid, q.name, q.type, q.option, coalesce(r.raters, 0) as raters, coalesce(u.rows, 0) as rows,
      coalesce(o.agreeing_pairs, 0)::numeric / nullif(o.pairs, 0) as percent_agreement,
      case q.metric
        when 'nominal' then 1 - (e.n - 1) * 2 * o.nominal_do / nullif(e.n * e.n - e.nc2, 0)
        else 1 - (e.n - 1) * o.metric_do / nullif(e.n * e.syy - e.sy * e.sy, 0) end as krippendorff_alpha,
      case when o.min_m = o.max_m and e.n * e.n <> e.nc2
        then (coalesce(o.agreeing_pairs, 0)::numeric / o.pairs - e.nc2::numeric / (e.n * e.n)) / (1 - e.nc2::numeric / (e.n * e.n)) end as fleiss_kappa,
      case when r.raters = 2 then (select p.kappa from pairs p where p.qid = q.qid) end as cohen_kappa
    from qs q left join observed o using (qid) left join expected e using (qid) left join raters r using (qid)
      left join unit_counts u using (qid)
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
