// The admin reports page (issue 15): the server's /v1/reports/* answers as charts (Chart.js, as
// the simulator) and tables, in Vietnamese and English; CSV downloads are the same routes with
// format=csv; every member's transactions export as a background job. Figures are shown as the
// server wrote them (money strings grouped for reading, never recomputed here).

const STRINGS = {
  vi: {
    title: 'Báo cáo', subtitle: 'Từ sổ điểm của máy chủ: cùng dữ liệu và cùng engine với mọi số dư.',
    all_pages: 'Tất cả các trang', login: 'Đăng nhập quản trị', user: 'Tên đăng nhập', password: 'Mật khẩu',
    date_format: 'Chưa chọn ngày (hiển thị dạng ngày/tháng/năm)', chosen: 'Đã chọn:',
    sign_in: 'Đăng nhập', from: 'Từ ngày', to: 'Đến ngày', group: 'Nhóm theo', day: 'Ngày', week: 'Tuần',
    month: 'Tháng', store: 'Cửa hàng', card_type: 'Loại thẻ', tier: 'Hạng', status: 'Trạng thái', any: 'Tất cả',
    active: 'Đang hoạt động', inactive: 'Chưa kích hoạt', excluded: 'Bị loại', unassigned: 'Thẻ chưa gán',
    expected: 'Tỷ lệ đổi điểm dự kiến', show: 'Xem báo cáo', revenue: 'Doanh thu và đơn hàng',
    frequency: 'Tần suất mua hàng', customers: 'Loại khách hàng', tiers: 'Lên hạng và xuống hạng',
    points: 'Điểm và nghĩa vụ nợ', transactions: 'Giao dịch thẻ', csv: 'Tải CSV', card: 'Số thẻ',
    export: 'Xuất mọi giao dịch (CSV, chạy nền)', download: 'Tải tệp', orders: 'Đơn hàng', refunds: 'Trả hàng',
    sales: 'Doanh số', gross_sales: 'Doanh số gộp', tier_discounts: 'Giảm giá theo hạng', average_basket: 'Giá trị đơn trung bình',
    redemptions: 'Lượt đổi điểm', points_redeemed: 'Điểm đã đổi', redeemed_amount: 'Tiền trả bằng điểm', paid: 'Tiền đã trả',
    members: 'Hội viên', median: 'Trung vị ngày giữa hai lần mua', days: 'Số ngày', intervals: 'Khoảng',
    buyers: 'Người mua', new: 'Mới', returning: 'Quay lại', joined: 'Tham gia trong kỳ', activation_rate: 'Tỷ lệ kích hoạt thẻ',
    issued_cards: 'Thẻ đã phát hành', up: 'Lên hạng', down: 'Xuống hạng', from_tier: 'Từ hạng', to_tier: 'Đến hạng',
    outstanding: 'Điểm còn lại', pending: 'Điểm chờ', liability: 'Nghĩa vụ nợ', point_value: 'Giá trị một điểm',
    issued: 'Điểm phát hành', redeemed: 'Điểm đã đổi', expired: 'Điểm hết hạn', adjusted: 'Điểm điều chỉnh',
    clawed_back: 'Điểm thu hồi', period: 'Kỳ', at: 'Thời điểm', kind: 'Loại', document_no: 'Số chứng từ',
    earned: 'Điểm tích', running: 'Đang chạy', done: 'Xong', failed: 'Lỗi', members_at_end: 'Hội viên cuối kỳ',
    login_failed: 'Sai tên đăng nhập hoặc mật khẩu.', no_store: '(không có cửa hàng)',
  },
  en: {
    title: 'Reports', subtitle: "From the server's ledger: the same data and the same engine as every balance.",
    all_pages: 'All pages', login: 'Admin sign-in', user: 'User', password: 'Password', sign_in: 'Sign in',
    date_format: 'No date chosen (shown as dd/mm/yyyy)', chosen: 'Chosen:',
    from: 'From', to: 'To', group: 'Group by', day: 'Day', week: 'Week', month: 'Month', store: 'Store',
    card_type: 'Card type', tier: 'Tier', status: 'Status', any: 'Any', active: 'Active', inactive: 'Not activated',
    excluded: 'Excluded', unassigned: 'Unassigned cards', expected: 'Expected redemption', show: 'Show reports',
    revenue: 'Revenue and orders', frequency: 'Purchase frequency', customers: 'Customer type',
    tiers: 'Tier movements', points: 'Points and liability', transactions: 'Card transactions', csv: 'Download CSV',
    card: 'Card number', export: 'Export every transaction (CSV, in the background)', download: 'Download file',
    orders: 'Orders', refunds: 'Refunds', sales: 'Sales', gross_sales: 'Gross sales', tier_discounts: 'Tier discounts',
    average_basket: 'Average basket', redemptions: 'Redemptions', points_redeemed: 'Points redeemed',
    redeemed_amount: 'Paid with points', paid: 'Paid', members: 'Members', median: 'Median days between purchases',
    days: 'Days', intervals: 'Intervals', buyers: 'Buyers', new: 'New', returning: 'Returning', joined: 'Joined in the period',
    activation_rate: 'Card activation rate', issued_cards: 'Cards issued', up: 'Upgrades', down: 'Downgrades',
    from_tier: 'From', to_tier: 'To', outstanding: 'Outstanding points', pending: 'Pending points', liability: 'Liability',
    point_value: 'Point value', issued: 'Issued', redeemed: 'Redeemed', expired: 'Expired', adjusted: 'Adjusted',
    clawed_back: 'Clawed back', period: 'Period', at: 'When', kind: 'Kind', document_no: 'Document', earned: 'Earned',
    running: 'Running', done: 'Done', failed: 'Failed', members_at_end: 'Members at the end',
    login_failed: 'Wrong user or password.', no_store: '(no store)',
  },
};

let lang = localStorage.getItem('reports-lang') === 'en' ? 'en' : 'vi';
let csrf = sessionStorage.getItem('reports-csrf') ?? '';
const charts = {};
let last = null; // the answers shown, re-rendered on a language switch

const $ = (id) => document.getElementById(id);
const t = (k) => STRINGS[lang][k] ?? k;

/** A decimal string or integer, grouped for reading (the digits stay the server's). */
function fmt(v) {
  if (v === null || v === undefined) return '—';
  const s = String(v);
  const m = /^(-?)(\d+)(\.\d+)?$/.exec(s);
  if (!m) return s;
  const sep = lang === 'vi' ? '.' : ',';
  const dec = lang === 'vi' ? ',' : '.';
  return m[1] + m[2].replace(/\B(?=(\d{3})+(?!\d))/g, sep) + (m[3] ? dec + m[3].slice(1) : '');
}

function applyLanguage() {
  document.documentElement.lang = lang;
  document.title = `${t('title')} — loyalty serve`;
  for (const el of document.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);
  for (const b of document.querySelectorAll('[data-lang]')) b.setAttribute('aria-pressed', String(b.dataset.lang === lang));
  dateHints();
  if (last) render(last);
}

function params(extra = {}) {
  const p = new URLSearchParams({ from: $('from').value, to: $('to').value, group: $('group').value });
  for (const k of ['store', 'card_type', 'tier', 'status']) if ($(k).value.trim()) p.set(k, $(k).value.trim());
  for (const [k, v] of Object.entries(extra)) p.set(k, v);
  return p;
}

async function api(path, init = {}) {
  const r = await fetch(path, { credentials: 'same-origin', ...init });
  const body = await r.json().catch(() => null);
  if (!r.ok) {
    const e = new Error(body?.error?.message ?? `HTTP ${r.status}`);
    e.status = r.status;
    e.path = body?.error?.path;
    throw e;
  }
  return body;
}

function figures(dl, pairs) {
  dl.replaceChildren(
    ...pairs.map(([k, v]) => {
      const d = document.createElement('div');
      const dt = document.createElement('dt');
      const dd = document.createElement('dd');
      dt.textContent = t(k);
      dd.textContent = fmt(v);
      dd.dataset.key = k;
      d.append(dt, dd);
      return d;
    }),
  );
}

function table(el, head, rows) {
  const tr = (cells, tag) => {
    const r = document.createElement('tr');
    for (const c of cells) {
      const x = document.createElement(tag);
      x.textContent = tag === 'th' ? t(c) : fmt(c);
      r.append(x);
    }
    return r;
  };
  el.replaceChildren(tr(head, 'th'), ...rows.map((r) => tr(r, 'td')));
}

function chart(id, type, labels, datasets) {
  charts[id]?.destroy();
  if (typeof Chart === 'undefined') return; // the page works without the charts library
  charts[id] = new Chart($(id), {
    type,
    data: { labels, datasets: datasets.map(([label, data]) => ({ label: t(label), data })) },
    options: { responsive: true, maintainAspectRatio: false, animation: false },
  });
}

const num = (s) => Number(s ?? 0);

function render(a) {
  const { revenue, frequency, customers, tiers, points } = a;
  const rt = revenue.totals;
  figures($('revenue-totals'), ['orders', 'refunds', 'sales', 'average_basket', 'tier_discounts', 'redemptions', 'points_redeemed', 'redeemed_amount'].map((k) => [k, rt[k]]));
  chart('chart-revenue', 'bar', revenue.by_period.map((p) => p.period), [['sales', revenue.by_period.map((p) => num(p.sales))], ['tier_discounts', revenue.by_period.map((p) => num(p.tier_discounts))]]);
  table($('revenue-stores'), ['store', 'orders', 'sales', 'average_basket', 'tier_discounts', 'points_redeemed'],
    revenue.by_store.map((s) => [s.store || t('no_store'), s.orders, s.sales, s.average_basket, s.tier_discounts, s.points_redeemed]));

  figures($('frequency-totals'), [['members', frequency.members], ['orders', frequency.orders], ['median', frequency.days_between.median]]);
  chart('chart-frequency', 'bar', frequency.by_orders.map((b) => b.orders), [['members', frequency.by_orders.map((b) => b.members)]]);
  table($('frequency-gaps'), ['days', 'intervals'], frequency.days_between.distribution.map((d) => [d.days, d.intervals]));

  figures($('customers-totals'), [['buyers', customers.buyers.total], ['new', customers.buyers.new], ['returning', customers.buyers.returning], ['joined', customers.joined], ['issued_cards', customers.cards.issued], ['activation_rate', customers.cards.activation_rate]]);
  chart('chart-customers', 'doughnut', [t('new'), t('returning')], [['buyers', [customers.buyers.new, customers.buyers.returning]]]);
  table($('customers-status'), ['status', 'members'], customers.members_at_end.by_status.map((s) => [t(s.status), s.members]));

  chart('chart-tiers', 'bar', tiers.by_month.map((m) => m.month), [['up', tiers.by_month.map((m) => m.up)], ['down', tiers.by_month.map((m) => m.down)]]);
  table($('tiers-matrix'), ['from_tier', 'to_tier', 'members'], tiers.matrix.map((m) => [m.from, m.to, m.members]));
  table($('tiers-end'), ['tier', 'members_at_end'], tiers.members_at_end.map((m) => [m.tier, m.members]));

  const e = points.at_end;
  figures($('points-end'), [['members', e.members], ['outstanding', e.outstanding], ['pending', e.pending], ['point_value', e.point_value], ['expected', e.expected_redemption], ['liability', e.liability]]);
  chart('chart-points', 'bar', points.by_period.map((p) => p.period), ['issued', 'redeemed', 'expired'].map((k) => [k, points.by_period.map((p) => p[k])]));
  table($('points-flows'), ['period', 'issued', 'redeemed', 'expired', 'adjusted', 'clawed_back'],
    [['∑', ...['issued', 'redeemed', 'expired', 'adjusted', 'clawed_back'].map((k) => points.flows[k])],
      ...points.by_period.map((p) => [p.period, p.issued, p.redeemed, p.expired, p.adjusted, p.clawed_back])]);
}

async function show() {
  $('error').hidden = true;
  document.body.dataset.loaded = '0';
  try {
    const names = ['revenue', 'frequency', 'customers', 'tiers', 'points'];
    const answers = await Promise.all(names.map((n) =>
      api(`/v1/reports/${n}?${params(n === 'points' ? { expected_redemption: $('expected').value.trim() || '1' } : {})}`)));
    last = Object.fromEntries(names.map((n, i) => [n, answers[i]]));
    for (const a of document.querySelectorAll('a.csv[data-report]')) {
      const extra = a.dataset.report === 'points' ? { expected_redemption: $('expected').value.trim() || '1' } : {};
      a.href = `/v1/reports/${a.dataset.report}?${params({ ...extra, format: 'csv' })}`;
    }
    $('reports').hidden = false;
    render(last);
    document.body.dataset.loaded = '1';
  } catch (err) {
    if (err.status === 401) return signedOut();
    $('error').textContent = err.path ? `${err.path}: ${err.message}` : err.message;
    $('error').hidden = false;
  }
}

async function showCard() {
  const card = $('card').value.trim();
  if (!card) return;
  try {
    const p = params({ card });
    const a = await api(`/v1/reports/transactions?${p}`);
    table($('card-rows'), ['at', 'kind', 'document_no', 'store', 'paid', 'redeemed', 'earned'],
      a.items.map((r) => [r.at, r.kind, r.document_no ?? '', r.store ?? '', r.paid, r.points_redeemed, r.points_earned]));
    p.set('format', 'csv');
    $('card-csv').href = `/v1/reports/transactions?${p}`;
    $('card-csv').hidden = false;
  } catch (err) {
    $('error').textContent = err.message;
    $('error').hidden = false;
  }
}

async function exportAll() {
  const body = { report: 'transactions', from: $('from').value, to: $('to').value };
  for (const k of ['store', 'card_type', 'tier', 'status']) if ($(k).value.trim()) body[k] = $(k).value.trim();
  let job = await api('/v1/reports/exports', {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(body),
  });
  $('export-progress').hidden = false;
  $('export-link').hidden = true;
  while (job.state === 'running') {
    $('export-progress').value = num(job.progress);
    $('export-state').textContent = `${t('running')} ${fmt(job.rows_done)} / ${fmt(job.rows_total)}`;
    await new Promise((r) => setTimeout(r, 300));
    job = await api(`/v1/reports/exports/${job.id}`);
  }
  $('export-progress').value = job.state === 'done' ? 1 : 0;
  $('export-state').textContent = job.state === 'done' ? `${t('done')}: ${fmt(job.rows_done)}` : `${t('failed')}: ${job.error}`;
  if (job.download) {
    $('export-link').href = job.download;
    $('export-link').hidden = false;
  }
}

function signedOut() {
  $('login').hidden = false;
  $('filters').hidden = true;
  $('reports').hidden = true;
}

async function signIn(ev) {
  ev.preventDefault();
  $('login-error').hidden = true;
  try {
    const a = await api('/v1/admin/login', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: $('user').value, password: $('password').value }),
    });
    csrf = a.csrf_token;
    sessionStorage.setItem('reports-csrf', csrf);
    $('login').hidden = true;
    $('filters').hidden = false;
    await show();
  } catch {
    $('login-error').textContent = t('login_failed');
    $('login-error').hidden = false;
  }
}

/** The period's dates as this page writes them, below the native pickers (which Chromium draws in
 * its own UI language, whatever the page's): the format until a date is chosen, then the date. */
function dateHints() {
  for (const id of ['from', 'to']) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec($(id).value);
    const hint = $(`${id}-hint`);
    hint.textContent = m ? `${t('chosen')} ${m[3]}/${m[2]}/${m[1]}` : t('date_format');
    hint.dataset.value = m ? `${m[3]}/${m[2]}/${m[1]}` : '';
  }
}

function init() {
  const today = new Date();
  const iso = (d) => d.toISOString().slice(0, 10);
  $('to').value = iso(today);
  $('from').value = iso(new Date(today.getFullYear(), today.getMonth() - 11, 1));
  for (const id of ['from', 'to']) $(id).addEventListener('input', dateHints);
  for (const b of document.querySelectorAll('[data-lang]')) {
    b.addEventListener('click', () => {
      lang = b.dataset.lang;
      localStorage.setItem('reports-lang', lang);
      applyLanguage();
    });
  }
  $('login').addEventListener('submit', signIn);
  $('show').addEventListener('click', show);
  $('card-show').addEventListener('click', showCard);
  $('export').addEventListener('click', () => exportAll().catch((e) => { $('export-state').textContent = e.message; }));
  applyLanguage();
  // Signed in already in this tab (a session cookie and its CSRF token)? Otherwise sign in.
  if (csrf) {
    $('filters').hidden = false;
    show();
  } else signedOut();
  document.body.dataset.ready = '1';
}

init();
