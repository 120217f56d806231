// Wufei's public pages in a real browser: seeds data through the API (as the city's staff,
// a resident and a merchant would), then opens every page type in headless Chromium at
// phone (375 px) and desktop (1280 px) width and checks that
//   - the page answers with its expected status and no console error,
//   - no request fails and none goes to any host but the server,
//   - axe-core finds no serious or critical accessibility violation,
//   - the content is there (the home page's figures equal /v1/stats/overview),
//   - the suggestion form sends, and the suggestion appears once moderated,
//   - the elder mode switches on and is remembered.
// Screenshots go to --out (and, with --keep DIR, a set to DIR for the README).
//
// node walk.mjs --base http://127.0.0.1:8080 --out /tmp/shots [--keep ../../docs/screenshots]
// node walk.mjs --base http://127.0.0.1:8080 --seed-only   # only the data (a fresh server
//                                                          # with WUFEI_SEED_DEMO=1), no browser
import { chromium } from 'playwright-core';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, copyFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const BASE = arg('base', 'http://127.0.0.1:8080');
const OUT = arg('out', '/tmp/wufei-screens');
const KEEP = arg('keep', '');
const CHROMIUM = arg('chromium', process.env.WUFEI_CHROMIUM || '/usr/bin/chromium');
const HOST = new URL(BASE).host;
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
mkdirSync(OUT, { recursive: true });
if (KEEP) mkdirSync(KEEP, { recursive: true });

// The page types whose screenshots are kept for the README (--keep).
const KEPT = new Set(['home', 'indicators', 'indicator', 'tasks', 'cells', 'facility', 'stats',
  'open-data', 'suggestions', 'market', 'listing', 'not-found', 'elder-home']);

const failures = [];
const fail = (where, what) => {
  failures.push(`${where}: ${what}`);
  console.error(`FAIL ${where}: ${what}`);
};

// ------------------------------------------------------------------ the API, for seeding

async function api(method, path, { token, body, form, expect } = {}) {
  const headers = { 'idempotency-key': randomUUID() };
  if (token) headers.authorization = `Bearer ${token}`;
  let payload;
  if (form) payload = form;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(BASE + path, { method, headers, body: payload });
  const text = await res.text();
  const ok = expect ? expect.includes(res.status) : res.status < 300;
  if (!ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}
const login = async (phone, password) =>
  api('POST', '/v1/auth/password', { body: { phone, password } });

/** A small PNG (width × height, two colours in stripes), for the uploads. */
function png(width, height, [r1, g1, b1], [r2, g2, b2]) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      const [r, g, b] = Math.floor((x + y) / 12) % 2 ? [r1, g1, b1] : [r2, g2, b2];
      raw.set([r, g, b], row + 1 + x * 3);
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

async function upload(token, purpose, colours) {
  const form = new FormData();
  form.append('file', new Blob([png(160, 120, ...colours)], { type: 'image/png' }), 'photo.png');
  return (await api('POST', `/v1/uploads?purpose=${purpose}`, { token, form })).id;
}

const CENTRE = { lat: 36.456, lng: 115.985 };
const today = new Date();
const isoDay = (d) => d.toISOString().slice(0, 10);
const inDays = (n) => isoDay(new Date(today.getTime() + n * 86400000));

async function seed() {
  const admin = (await login('13800000000', 'wufei-demo-admin')).access_token;
  const resident = await login('13800000002', 'wufei-demo-pass');
  const rtoken = resident.access_token;
  const year = today.getUTCFullYear();

  // Reported indicator values (the city's), so targets show progress and a series.
  for (const [code, values] of [
    ['industrial_solid_waste_utilisation_rate', [[year - 3, 61.2], [year - 2, 64.8], [year - 1, 68.5]]],
    ['bulk_industrial_solid_waste_utilisation_rate', [[year - 2, 70.1], [year - 1, 73.4]]],
  ]) {
    for (const [y, value] of values) {
      await api('POST', `/v1/admin/indicators/${code}/values`, {
        token: admin,
        body: { year: y, value, source: '市工业和信息化局年报' },
      });
    }
  }

  // Facilities across districts and kinds.
  const facilities = [];
  for (const [name, kind, district, lat, lng, capacity] of [
    ['东昌府区再生资源分拣中心', 'sorting_centre', '371502', 36.456, 115.985, 120],
    ['临清市建筑垃圾资源化利用厂', 'construction_waste_plant', '371581', 36.84, 115.71, 800],
    ['茌平区餐厨垃圾处理厂', 'kitchen_waste_plant', '371503', 36.58, 116.25, 100],
    ['古楼街道再生资源回收站', 'recycling_station', '371502', 36.445, 115.99, null],
  ]) {
    const f = await api('POST', '/v1/admin/facilities', {
      token: admin,
      body: { name, kind, district_code: district, address: `${name}（示例地址）`, lat, lng,
        capacity, opening_hours: '08:00–18:00', operator: '聊城市某再生资源有限公司' },
    });
    facilities.push(f.id);
  }

  // Smart-device deposits by the resident, so the statistics have figures.
  const deposits = [
    ['371502', 'paper', 12500], ['371502', 'plastic', 4300], ['371503', 'metal', 2600],
    ['371581', 'glass', 5200], ['371581', 'textile', 3100],
  ];
  let n = 0;
  for (const [district, category, weight] of deposits) {
    const device = await api('POST', '/v1/admin/devices', {
      token: admin, body: { kind: 'recycling_bin', name: `智能回收箱 ${++n}`, district_code: district },
    });
    const qr = await api('GET', '/v1/points/qr-token', { token: rtoken });
    const body = JSON.stringify({ event_id: randomUUID(), resident_token: qr.token ?? qr.qr_token,
      category_code: category, weight_g: weight });
    const ts = Math.floor(Date.now() / 1000).toString();
    const signature = createHmac('sha256', device.secret).update(`${ts}.${body}`).digest('hex');
    const res = await fetch(`${BASE}/v1/devices/${device.id}/deposits`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-wufei-timestamp': ts, 'x-wufei-signature': signature },
      body,
    });
    if (res.status >= 300) throw new Error(`deposit answered ${res.status}: ${await res.text()}`);
  }

  // A zero-waste cell, applied for by the resident and approved.
  const cells = [];
  for (const [organisation, kind, district, lat, lng] of [
    ['古楼街道东关社区', 'zero_waste_community', '371502', 36.452, 115.99],
    ['聊城市实验小学', 'zero_waste_school', '371502', 36.47, 115.97],
  ]) {
    const c = await api('POST', '/v1/cell-applications', {
      token: rtoken,
      body: { organisation, kind, district_code: district, address: `${organisation}（示例地址）`, lat, lng,
        description: '设置再生资源回收点，推行垃圾分类和绿色积分兑换，开展无废宣传教育活动。' },
    });
    await api('POST', `/v1/admin/cell-applications/${c.id}/approve`, { token: admin, body: {} });
    cells.push(c.id);
  }

  // The resident becomes a merchant: application, approval, a fresh token with the role.
  const licence = await upload(rtoken, 'licence', [[220, 220, 220], [200, 200, 200]]);
  const application = await api('POST', '/v1/merchant-applications', {
    token: rtoken,
    body: { company_name: '聊城市再生建材有限公司', credit_code: '91371502MA3C123457', contact_name: '王经理',
      contact_phone: '13812345678', district_code: '371502', address: '东昌府区再生产业园 8 号', licence_id: licence },
  });
  await api('POST', `/v1/admin/merchant-applications/${application.id}/approve`, { token: admin, body: {} });
  const mtoken = (await api('POST', '/v1/auth/refresh', { body: { refresh_token: resident.refresh_token } })).access_token;

  const photo = await upload(mtoken, 'listing_photo', [[120, 120, 110], [150, 145, 135]]);
  const listing = await api('POST', '/v1/market/listings', {
    token: mtoken,
    body: { product_type: 'recycled_coarse_aggregate', title: '再生粗骨料 5-31.5mm', description:
      '建筑垃圾再生骨料（粗），经破碎、筛分和除杂，可用于 C30 及以下混凝土和道路基层。',
      spec: '5-31.5mm', standard: 'GB/T 25177', unit: 't', price_fen: 4500, stock: 1200, min_order: 5,
      plant: { lat: CENTRE.lat, lng: CENTRE.lng, address: '东昌府区再生产业园 8 号', district_code: '371502' },
      delivery_radius_km: 50, photo_ids: [photo] },
  });
  const certificate = await upload(mtoken, 'certificate', [[255, 255, 255], [235, 240, 250]]);
  await api('POST', `/v1/market/listings/${listing.id}/certificates`, {
    token: mtoken,
    body: { kind: 'test_report', number: 'JC-2026-0815', issuer: '山东省建筑材料质量检验中心',
      issued_on: inDays(-30), expires_on: inDays(335), upload_id: certificate },
  });
  await api('POST', `/v1/market/listings/${listing.id}/submit`, { token: mtoken, body: {} });
  const published = await api('POST', `/v1/admin/market/listings/${listing.id}/approve`, { token: admin, body: {} });
  await api('POST', '/v1/market/demands', {
    token: mtoken,
    body: { product_type: 'permeable_brick', title: '人行道改造求购透水砖', quantity: 3000, unit: 'm2',
      max_price_fen: 6500, district_code: '371502', site: { ...CENTRE, address: '东昌府区柳园路' },
      needed_by: inDays(60) },
  });
  // The search index is written by a job: wait until the listing is found.
  for (let i = 0; ; i++) {
    const found = await api('GET', '/v1/market/listings?q=%E9%AA%A8%E6%96%99');
    if (found.items.some((l) => l.id === listing.id)) break;
    if (i > 150) throw new Error('the listing never reached the search index');
    await new Promise((r) => setTimeout(r, 200));
  }
  // An article: written by a district administrator (the demo station manager, appointed for
  // this, since a publication needs a second account) and published by the city-wide one.
  const manager = await api('GET', '/v1/admin/users?phone=13800000003', { token: admin });
  await api('PATCH', `/v1/admin/users/${manager.items[0].id}`, {
    token: admin, body: { role: 'admin', admin_scope: 'district', district_code: '371502' } });
  const editor = (await login('13800000003', 'wufei-demo-pass')).access_token;
  const article = await api('POST', '/v1/admin/articles', {
    token: editor,
    body: { title: '东昌府区再生资源回收周报', category: 'news', district_code: '371502',
      body: '## 本周进展\n\n上门回收再生资源 **12 吨**，新增无废社区 1 个。' },
  });
  await api('POST', `/v1/admin/articles/${article.id}/submit`, { token: editor, body: {} });
  await api('POST', `/v1/admin/articles/${article.id}/publish`, { token: admin, body: {} });
  return {
    admin, facility: facilities[0], cell: cells[0], listing: listing.id,
    merchant: published.merchant.id, article: article.id,
  };
}

// ------------------------------------------------------------------ the browser

const VIEWPORTS = [
  { name: 'phone', width: 375, height: 812 },
  { name: 'desktop', width: 1280, height: 900 },
];

/** Opens `path` in a fresh page of `context`, with the checks every page gets. */
async function visit(context, name, path, { status = 200, check, keep = true, viewport }) {
  const where = `${name}@${viewport.name}`;
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // The document's own expected error status is reported as a console error too.
    if (status >= 400 && m.text().includes(`status of ${status}`)) return;
    errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('requestfailed', (r) => fail(where, `request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (['http:', 'https:'].includes(url.protocol) && url.host !== HOST) fail(where, `request to another host: ${r.url()}`);
  });
  page.on('response', (r) => {
    if (r.request().isNavigationRequest()) return;
    if (r.status() >= 400) fail(where, `${r.status()} for ${r.url()}`);
  });
  const started = Date.now();
  const res = await page.goto(BASE + path, { waitUntil: 'load' });
  const ms = Date.now() - started;
  if (res.status() !== status) fail(where, `status ${res.status()}, expected ${status}`);
  const lang = await page.getAttribute('html', 'lang');
  if (lang !== 'zh-CN') fail(where, `lang ${lang}`);
  const title = await page.title();
  if (!title.includes('聊城市无废城市建设信息公开')) fail(where, `title ${title}`);
  for (const selector of ['meta[name="description"]', 'link[rel="canonical"]', 'meta[property="og:title"]', 'h1']) {
    if ((await page.locator(selector).count()) === 0) fail(where, `no ${selector}`);
  }
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  if (width > viewport.width + 1) fail(where, `the page is ${width}px wide in a ${viewport.width}px window`);
  if (check) {
    try {
      await check(page);
    } catch (e) {
      fail(where, `content: ${e.message}`);
    }
  }
  // Evaluated over the DevTools protocol: the pages' Content-Security-Policy allows no script.
  await page.evaluate(axeSource);
  const axe = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    (await axe.run(document, { resultTypes: ['violations'] })).violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
    })));
  for (const v of axe) {
    if (v.impact === 'serious' || v.impact === 'critical') fail(where, `axe ${v.impact} ${v.id}: ${v.help} ${JSON.stringify(v.nodes)}`);
    else console.log(`  axe ${v.impact} ${v.id} on ${where}: ${v.help}`);
  }
  for (const e of errors) fail(where, `console: ${e}`);
  const file = join(OUT, `${name}-${viewport.name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  if (KEEP && keep && KEPT.has(name)) copyFileSync(file, join(KEEP, `${name}-${viewport.name}.png`));
  console.log(`ok ${where} ${path} (${ms} ms, axe: ${axe.length} minor)`);
  return page;
}

const text = async (page, selector) => (await page.locator(selector).first().innerText()).trim();
const has = (needle) => async (page) => {
  const body = await page.content();
  if (!body.includes(needle)) throw new Error(`no ${needle}`);
};

async function main() {
  const s = await seed();
  if (process.argv.includes('--seed-only')) {
    console.log('seeded; open', BASE);
    return;
  }
  console.log('seeded: cell', s.cell, 'facility', s.facility, 'listing', s.listing, 'merchant', s.merchant);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  const overview = await api('GET', '/v1/stats/overview');
  const pages = [
    ['home', '/', async (page) => {
      for (const [id, value] of [
        ['month-weight', overview.this_month.weight_t], ['year-weight', overview.this_year.weight_t],
        ['year-households', overview.this_year.households], ['cells', overview.cells],
        ['facilities', overview.facilities], ['listings', overview.market.listings],
        ['demands', overview.market.open_demands],
      ]) {
        const raw = Number(await page.getAttribute(`#fig-${id}`, 'data-value'));
        if (raw !== value) throw new Error(`figure ${id}: page ${raw}, API ${value}`);
      }
      if (overview.this_year.weight_t <= 0) throw new Error('the seeded deposits are not in the figures');
    }],
    ['articles', '/articles?category=news', has('东昌府区再生资源回收周报')],
    ['article', `/articles/${s.article}`, has('本周进展')],
    ['indicators', '/indicators', has('<progress')],
    ['indicator', '/indicators/industrial_solid_waste_utilisation_rate', has('<svg class="chart"')],
    ['tasks', '/tasks?status=not_reported', has('牵头单位')],
    ['cells', '/cells', has('古楼街道东关社区')],
    ['cell', `/cells/${s.cell}`, has('古楼街道东关社区')],
    ['facilities', '/facilities', has('临清市建筑垃圾资源化利用厂')],
    ['facility', `/facilities/${s.facility}`, has('东昌府区再生资源分拣中心')],
    ['stats', '/stats', async (page) => {
      const total = Number((await text(page, '#total-weight')).replaceAll(',', ''));
      if (!(total > 0)) throw new Error(`total ${total}`);
      if ((await page.locator('svg.chart').count()) < 3) throw new Error('charts missing');
    }],
    ['open-data', '/open-data', has('recycling-records.csv')],
    ['suggestions', '/suggestions', has('提出建议')],
    ['market', '/market?q=%E9%AA%A8%E6%96%99&certified=true&sort=price_asc', has('再生粗骨料 5-31.5mm')],
    ['listing', `/market/listings/${s.listing}`, has('JC-2026-0815')],
    ['merchant', `/market/merchants/${s.merchant}`, has('再生粗骨料 5-31.5mm')],
    ['demands', '/market/demands', has('人行道改造求购透水砖')],
    ['not-found', '/no-such-page', has('页面不存在'), 404],
    ['bad-request', '/cells?kind=zero_waste_moon', has('无法理解的请求'), 400],
  ];
  for (const viewport of VIEWPORTS) {
    const context = await browser.newContext({ viewport, locale: 'zh-CN' });
    for (const [name, path, check, status] of pages) {
      const page = await visit(context, name, path, { check, status, viewport });
      await page.close();
    }
    await context.close();
  }

  // The suggestion form, at phone width: sent, thanked, moderated, shown.
  const phone = VIEWPORTS[0];
  const context = await browser.newContext({ viewport: phone, locale: 'zh-CN' });
  let page = await visit(context, 'suggestion-form', '/suggestions', { viewport: phone, keep: false });
  await page.selectOption('#s-category', 'recycling_service');
  await page.selectOption('#s-district_code', '371502');
  await page.fill('#s-text', '建议在周末增加上门回收时段，方便上班族。');
  await page.fill('#s-contact', '13912345678');
  await Promise.all([page.waitForURL('**/suggestions?sent=1*'), page.click('form.send button[type="submit"]')]);
  if (!(await page.content()).includes('感谢您的建议')) fail('suggestion-form', 'no thank-you after sending');
  await page.close();
  const queue = await api('GET', '/v1/admin/suggestions', { token: s.admin });
  const sent = queue.items.find((i) => i.text.includes('周末增加上门回收'));
  if (!sent) fail('suggestion-form', 'the suggestion did not reach moderation');
  else {
    await api('POST', `/v1/admin/suggestions/${sent.id}/publish`, { token: s.admin, body: {} });
    await api('POST', `/v1/admin/suggestions/${sent.id}/reply`, {
      token: s.admin, body: { text: '已在东昌府区试点周六上午时段。', unit: '市城市管理局' } });
    page = await visit(context, 'suggestions-answered', '/suggestions', {
      viewport: phone, check: has('已在东昌府区试点周六上午时段'), keep: false });
    if ((await page.content()).includes('13912345678')) fail('suggestions-answered', 'contact shown');
    await page.close();
  }

  // Elder mode: the header's button, then remembered on the next page.
  page = await visit(context, 'home', '/', { viewport: phone, keep: false });
  await Promise.all([page.waitForURL(`${BASE}/`), page.click('form.display button')]);
  if ((await page.getAttribute('html', 'class')) !== 'elder') fail('elder', 'not switched on');
  await page.close();
  await visit(context, 'elder-home', '/', {
    viewport: phone,
    check: async (p) => { if ((await p.getAttribute('html', 'class')) !== 'elder') throw new Error('not remembered'); },
  });
  await context.close();
  await browser.close();

  if (failures.length) {
    console.error(`\n${failures.length} failure(s)`);
    process.exit(1);
  }
  console.log(`\nevery page type passed at ${VIEWPORTS.map((v) => v.width).join(' and ')} px; screenshots in ${OUT}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
