// Vietnamese and English for the server pages (POS till panel, admin, member account): a
// dictionary per language, numbers, money and dates formatted by Intl in the chosen locale
// (`1.315.000 ₫` and `07/03/2026 10:00` in Vietnamese; VND without decimals), the programme's
// time zone for dates. The choice is kept in localStorage and switched by any <select data-lang>.
const KEY = 'loyalty.lang';
export const LANGS = { vi: 'vi-VN', en: 'en-GB' };
export const TIME_ZONE = 'Asia/Ho_Chi_Minh';

const dict = {
  en: {},
  vi: {
    'Language': 'Ngôn ngữ', 'Log in': 'Đăng nhập', 'Log out': 'Đăng xuất', 'Till key': 'Khóa quầy',
    'User': 'Tài khoản', 'Password': 'Mật khẩu', 'Card or phone': 'Thẻ hoặc số điện thoại',
    'Find': 'Tìm', 'Member': 'Hội viên', 'Members': 'Hội viên', 'Status': 'Trạng thái', 'Tier': 'Hạng',
    'Points': 'Điểm', 'Available points': 'Điểm khả dụng', 'Pending points': 'Điểm chờ',
    'Phone': 'Điện thoại', 'Name': 'Tên', 'Cards': 'Thẻ', 'Card': 'Thẻ', 'Actions': 'Thao tác',
    'Search': 'Tìm kiếm', 'All': 'Tất cả', 'Store': 'Cửa hàng', 'Next page': 'Trang sau',
    'Previous page': 'Trang trước', 'Hold': 'Giữ đơn', 'Confirm payment': 'Xác nhận thanh toán',
    'Void': 'Hủy đơn', 'Sell': 'Bán', 'Queue': 'Hàng đợi', 'Sync now': 'Đồng bộ ngay',
    'online': 'trực tuyến', 'offline': 'ngoại tuyến', 'Activate card': 'Kích hoạt thẻ',
    'Customer phone': 'Số điện thoại khách', 'queued': 'chờ gửi', 'booked': 'đã ghi',
    'held': 'đang giữ', 'voided': 'đã hủy', 'failed': 'lỗi', 'active': 'hoạt động',
    'inactive': 'chưa kích hoạt', 'excluded': 'bị loại', 'unassigned': 'chưa gán',
    'blocked': 'đã khóa', 'retired': 'ngừng dùng', 'Adjust points': 'Điều chỉnh điểm',
    'Reason': 'Lý do', 'Activate': 'Kích hoạt', 'Exclude': 'Loại khỏi chương trình',
    'Re-activate': 'Kích hoạt lại', 'Move to new phone': 'Chuyển sang số điện thoại mới',
    'New phone': 'Số điện thoại mới', 'Delete member': 'Xóa hội viên', 'Export JSON': 'Xuất JSON',
    'Issue card': 'Cấp thẻ', 'Block card': 'Khóa thẻ', 'Card types': 'Loại thẻ',
    'Batches': 'Lô thẻ', 'New batch': 'Lô mới', 'Count': 'Số lượng', 'Type': 'Loại',
    'Download CSV': 'Tải CSV', 'History': 'Lịch sử', 'Policies': 'Chính sách',
    'Settings': 'Cài đặt', 'Online transaction': 'Giao dịch trực tuyến', 'Save': 'Lưu',
    'Validate': 'Kiểm tra', 'Publish': 'Áp dụng', 'Effective at': 'Hiệu lực từ',
    'New member': 'Hội viên mới', 'Create': 'Tạo', 'Redeem reward': 'Đổi quà',
    'Total to pay': 'Tổng thanh toán', 'Points earned': 'Điểm tích', 'Send code': 'Gửi mã',
    'One-time code': 'Mã một lần', 'Balance': 'Số dư', 'Progress': 'Tiến độ',
    'Expiring points': 'Điểm sắp hết hạn', 'Type of event': 'Loại', 'Date': 'Ngày',
    'Points change': 'Điểm thay đổi', 'Available after': 'Còn lại', 'Counts for tier': 'Tính hạng',
    'Set tier': 'Đặt hạng', 'Locked until': 'Giữ đến', 'Replacement card': 'Thẻ thay thế',
    'Sale booked': 'Đã ghi đơn', 'Sale queued (offline)': 'Đã lưu đơn (ngoại tuyến)',
    'Not found': 'Không tìm thấy', 'Amount': 'Số tiền', 'Receipt': 'Hóa đơn', 'Lines': 'Dòng hàng',
    'Add line': 'Thêm dòng', 'Quote': 'Báo giá', 'Book': 'Ghi đơn', 'Stores': 'Cửa hàng',
    'Tills': 'Quầy', 'Hold time (minutes)': 'Thời gian giữ (phút)', 'Webhooks': 'Webhook',
    'My card': 'Thẻ của tôi', 'Till': 'Quầy', 'Loyalty admin': 'Quản trị khách hàng thân thiết',
    'Draft (JSON)': 'Bản nháp (JSON)', 'Sell (offline)': 'Bán (ngoại tuyến)',
    purchase: 'mua hàng', refund: 'hoàn trả', adjust: 'điều chỉnh', expire: 'hết hạn',
    status: 'trạng thái', set_tier: 'đặt hạng', tier_review: 'xét hạng',
    opening_balance: 'số dư đầu kỳ', redeem_reward: 'đổi quà',
    // Admin: policies (simulate), webhooks, imports.
    'Expected redemption': 'Tỷ lệ đổi điểm dự kiến',
    'Share of outstanding points expected to be redeemed (0 to 1; empty: all).': 'Phần điểm còn lại dự kiến sẽ được đổi (từ 0 đến 1; để trống: toàn bộ).',
    'Simulate': 'Mô phỏng', 'Simulation against the stored members': 'Mô phỏng trên các hội viên hiện có',
    'Active policy': 'Chính sách đang áp dụng', 'Draft': 'Bản nháp', 'Change': 'Chênh lệch',
    'Members simulated': 'Hội viên được mô phỏng', 'Points issued': 'Điểm đã tích', 'Points redeemed': 'Điểm đã đổi',
    'Points expired': 'Điểm hết hạn', 'Points outstanding': 'Điểm còn lại', 'Liability': 'Nghĩa vụ điểm (tiền)',
    'Tier discounts': 'Giảm giá theo hạng', 'Members whose tier changes': 'Hội viên đổi hạng', 'Rejected': 'Bị từ chối',
    'Valid': 'Hợp lệ', 'Warnings': 'Cảnh báo', 'Simulating…': 'Đang mô phỏng…', 'Published': 'Đã áp dụng',
    'The notices of the chosen kinds are POSTed to each webhook, signed with its secret (X-Loyalty-Signature: sha256=HMAC of the body).':
      'Các thông báo thuộc loại đã chọn được gửi (POST) đến từng webhook, ký bằng khóa bí mật của nó (X-Loyalty-Signature: sha256=HMAC của nội dung).',
    'Events': 'Sự kiện', 'Tier up': 'Lên hạng', 'Tier down': 'Xuống hạng', 'Points expiring': 'Điểm sắp hết hạn',
    'Points expired': 'Điểm đã hết hạn',
    'Choose at least one kind of notice': 'Hãy chọn ít nhất một loại thông báo',
    'Add webhook': 'Thêm webhook', 'Secret (shown only once — copy it now):': 'Khóa bí mật (chỉ hiện một lần — hãy sao chép ngay):',
    'Created': 'Ngày tạo', 'Pending deliveries': 'Chờ gửi', 'Webhook added': 'Đã thêm webhook',
    'Import': 'Nhập dữ liệu', 'Import members': 'Nhập hội viên',
    'Upload a members NDJSON file (from loyalty import), or the CSV/XLSX exports of your old system with their mapping (docs/migration.md). The import runs in the background; running the same import again changes nothing.':
      'Tải lên tệp NDJSON hội viên (từ loyalty import), hoặc các tệp CSV/XLSX xuất từ hệ thống cũ kèm tệp ánh xạ (docs/migration.md). Việc nhập chạy nền; nhập lại cùng dữ liệu không thay đổi gì.',
    'What to upload': 'Tải lên gì', 'Members NDJSON': 'NDJSON hội viên', 'Exports with a mapping': 'Tệp xuất kèm ánh xạ',
    'Members file (.ndjson)': 'Tệp hội viên (.ndjson)', 'Mapping (.json)': 'Ánh xạ (.json)',
    'Export files (.csv, .xlsx)': 'Tệp xuất (.csv, .xlsx)', 'Upload and import': 'Tải lên và nhập', 'Job': 'Tác vụ',
    'Download the integrity report': 'Tải báo cáo kiểm tra', 'Choose the mapping and the export files': 'Hãy chọn tệp ánh xạ và các tệp xuất',
    'Choose a members file': 'Hãy chọn tệp hội viên', 'Import progress': 'Tiến độ nhập',
    running: 'đang chạy', done: 'xong', reading: 'đang đọc', storing: 'đang ghi', indexing: 'đang lập chỉ mục', reporting: 'đang lập báo cáo',
    'Members read': 'Hội viên đã đọc', 'Members created': 'Hội viên mới', 'Members unchanged': 'Không đổi',
    'Members in conflict': 'Xung đột', 'Members rejected': 'Bị từ chối', 'Events written': 'Sự kiện đã ghi', 'Cards written': 'Thẻ đã ghi',
    'Digest': 'Mã băm',
    'This draft came from the policy simulator': 'Bản nháp này được chuyển từ trang mô phỏng chính sách',
    'Validate it, simulate it on the stored members, then publish.': 'Hãy kiểm tra, mô phỏng trên các hội viên hiện có, rồi áp dụng.',
    'Value': 'Giá trị', 'Key': 'Khóa', 'Category': 'Danh mục', 'Qty': 'SL', 'Prefix': 'Tiền tố', 'Length': 'Độ dài',
    'Check digit': 'Số kiểm tra', 'Till ID': 'Mã quầy', 'Sections': 'Mục',
    // POS: refunds by receipt.
    'Refund by receipt': 'Trả hàng theo hóa đơn', 'Receipt (order id)': 'Hóa đơn (mã đơn)', 'Load order': 'Mở đơn',
    'Product': 'Sản phẩm', 'Sold': 'Đã bán', 'Unit price': 'Đơn giá', 'Quantity to return': 'Số lượng trả',
    'Book refund': 'Ghi trả hàng', 'Refund booked': 'Đã ghi trả hàng', 'Points taken back': 'Điểm bị trừ lại',
    'Nothing to return': 'Chưa chọn hàng trả', 'Order': 'Đơn hàng', 'Return all': 'Trả tất cả',
    'Points not covered by the balance': 'Điểm thiếu so với số dư',
    'Refunded': 'Đã trả', 'Fully refunded': 'Đã trả hết', 'At most': 'Tối đa', 'at most': 'tối đa',
    'can still be returned': 'còn có thể trả',
    'Everything on this receipt has been refunded': 'Toàn bộ hàng trên hóa đơn này đã được trả',
  },
};

/** Adds a page's own Vietnamese strings (English is the key), e.g. the simulator's. */
export function addStrings(vi) {
  Object.assign(dict.vi, vi);
}

export function lang() {
  const v = localStorage.getItem(KEY);
  if (v && dict[v]) return v;
  return (navigator.language || 'vi').toLowerCase().startsWith('en') ? 'en' : 'vi';
}

export function setLang(l) {
  localStorage.setItem(KEY, l);
  document.documentElement.lang = l;
  translate(document);
  for (const f of listeners) f(l);
}

const listeners = [];
export const onLang = (f) => listeners.push(f);

/** The text in the current language (English is the key). */
export const t = (s) => dict[lang()][s] ?? s;

/** Elements with data-i18n get their text; data-i18n-label their aria-label/placeholder. */
export function translate(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) {
    el.dataset.i18nKey ??= el.dataset.i18n || el.textContent.trim();
    el.textContent = t(el.dataset.i18nKey);
  }
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
}

const locale = () => LANGS[lang()];

/** Points and counts: `1.315` / `1,315`. */
export const num = (n) => (n === null || n === undefined || n === '' ? '—' : new Intl.NumberFormat(locale()).format(Number(n)));

/** Money from the engine's decimal string; VND has no decimals. Exact for amounts below 2^53. */
export function money(amount, currency = 'VND') {
  if (amount === null || amount === undefined || amount === '') return '—';
  const digits = currency === 'VND' ? 0 : 2;
  return new Intl.NumberFormat(locale(), { style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits }).format(Number(amount));
}

/** A date and time in the programme's zone, `07/03/2026 10:00` in both languages (day first). */
export function date(iso, withTime = true) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const parts = {};
  const f = new Intl.DateTimeFormat('en-GB', {
    timeZone: TIME_ZONE, day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  });
  for (const p of f.formatToParts(d)) parts[p.type] = p.value;
  const day = `${parts.day}/${parts.month}/${parts.year}`;
  return withTime ? `${day} ${parts.hour}:${parts.minute}` : day;
}

/** Reads a typed amount in either locale's grouping: `1.200.000`, `1,200,000`, `1200000`. */
export function parseAmount(text) {
  const s = String(text).trim().replace(/[\s₫đ]/gi, '');
  if (/^\d{1,3}([.,]\d{3})+$/.test(s)) return s.replace(/[.,]/g, '');
  return s.replace(',', '.');
}

/** Wires every <select data-lang> on the page and translates it. */
export function initLang() {
  document.documentElement.lang = lang();
  for (const sel of document.querySelectorAll('select[data-lang]')) {
    sel.value = lang();
    sel.addEventListener('change', () => setLang(sel.value));
  }
  translate(document);
}
