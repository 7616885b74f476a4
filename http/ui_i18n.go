package http

import (
	"net/http"
	"strings"
)

// lang is a UI language: "ja" (the default) or "en".
type lang string

// T translates a message key; an unknown key shows as itself.
func (l lang) T(key string) string {
	if m, ok := catalogs[string(l)][key]; ok {
		return m
	}
	if m, ok := catalogs["ja"][key]; ok {
		return m
	}
	for _, prefix := range []string{"st.", "pm.", "res.", "acc.", "job."} {
		if rest, ok := strings.CutPrefix(key, prefix); ok {
			return rest // a status without a translation shows as the API names it
		}
	}
	return key
}

// Code is the language's BCP 47 code for the lang attribute.
func (l lang) Code() string { return string(l) }

// langOf is the request's UI language: the cookie, else Japanese.
func langOf(r *http.Request) lang {
	if l := cookieValue(r, cookieLang); l == "en" {
		return "en"
	}
	return "ja"
}

// catalogs is the UI's message catalog. A test checks that every key the
// templates use is here in both languages.
var catalogs = map[string]map[string]string{
	"ja": {
		"app.admin": "本店 管理画面", "app.store": "本店", "lang.switch": "English", "lang.other": "en",
		"nav.dashboard": "ダッシュボード", "nav.orders": "注文", "nav.products": "商品", "nav.imports": "CSV取込",
		"nav.staff": "スタッフ", "nav.settings": "設定", "nav.ledger": "会計", "nav.statements": "入金明細",
		"nav.signout": "ログアウト", "nav.main": "メインメニュー",
		"signin.title": "ログイン", "signin.email": "メールアドレス", "signin.password": "パスワード", "signin.shop": "ショップコード(任意)",
		"signin.submit": "ログイン", "signin.failed": "メールアドレスまたはパスワードが違います",
		"dash.title": "ダッシュボード", "dash.today_orders": "本日の注文", "dash.today_sales": "本日の売上",
		"dash.transfers_due": "まもなく期限の振込待ち", "dash.low_stock": "在庫僅少", "dash.failing": "要対応",
		"dash.poisoned": "失敗したリアクション", "dash.lag": "リードモデルの遅延", "dash.none": "ありません",
		"dash.seconds": "秒",
		"orders.title": "注文", "orders.search": "検索(注文番号・メール・氏名)", "orders.status": "ステータス",
		"orders.payment_method": "支払方法", "orders.from": "開始日", "orders.to": "終了日", "orders.filter": "絞り込む",
		"orders.any": "すべて", "orders.next": "次のページ", "orders.number": "注文番号", "orders.customer": "お客様",
		"orders.total": "合計", "orders.created": "注文日時", "orders.payment": "支払", "orders.empty": "該当する注文はありません",
		"order.lines": "明細", "order.sku": "SKU", "order.item": "商品", "order.qty": "数量", "order.unit_price": "単価",
		"order.cancelled_qty": "キャンセル数", "order.payments": "支払", "order.shipments": "出荷", "order.timeline": "イベント履歴",
		"order.address": "配送先", "order.totals": "金額", "order.subtotal": "小計", "order.shipping": "送料",
		"order.cod_fee": "代引手数料", "order.discount": "割引", "order.total": "合計", "order.amount": "金額",
		"order.received": "入金済", "order.balance_due": "未入金", "order.reference": "振込参照番号", "order.due": "期限",
		"order.confirm_transfer": "振込を確認", "order.received_at": "入金日", "order.carrier": "配送業者",
		"order.tracking": "追跡番号", "order.ship": "出荷する", "order.deliver": "配達完了にする", "order.record_cod": "代引回収を記録",
		"order.cancel": "注文をキャンセル", "order.reason": "理由", "order.as_of": "この時点の注文", "order.as_of_title": "イベント時点の注文",
		"order.back_to_now": "現在の注文に戻る", "order.event": "イベント", "order.who": "誰が", "order.when": "いつ",
		"order.version": "版", "order.status": "ステータス", "order.stream": "対象",
		"products.title": "商品", "products.status": "状態", "products.category": "カテゴリ", "products.handle": "ハンドル",
		"products.variants": "バリエーション", "products.filter": "絞り込む", "products.next": "次のページ", "products.export": "CSVエクスポート",
		"product.edit": "商品の編集", "product.title": "商品名", "product.description": "説明", "product.save": "保存",
		"variant.title": "名前", "variant.price": "価格", "variant.status": "状態", "variant.is_hot": "人気商品(優先レーン)",
		"variant.stock": "在庫", "variant.on_hand": "実在庫", "variant.reserved": "引当", "variant.available": "販売可能",
		"variant.location": "拠点", "variant.set_stock": "在庫を設定", "variant.save": "バリエーションを保存",
		"imports.title": "CSV取込", "imports.file": "CSVファイル", "imports.upload": "取り込む", "imports.progress": "進捗",
		"imports.rows": "行", "imports.errors": "エラー", "imports.line": "行番号", "imports.state": "状態",
		"exports.title": "CSVエクスポート", "exports.products": "商品CSV", "exports.orders": "注文CSV",
		"store.search": "商品を検索", "store.search_button": "検索", "store.categories": "カテゴリ", "store.cart": "カート",
		"store.price": "価格", "store.in_stock": "在庫あり", "store.out_of_stock": "在庫切れ", "store.variant": "種類",
		"store.quantity": "数量", "store.add_to_cart": "カートに入れる", "store.no_results": "商品が見つかりません",
		"store.facets": "絞り込み", "store.all": "すべての商品", "store.stock": "在庫",
		"cart.title": "カート", "cart.empty": "カートは空です", "cart.reservation": "在庫確保", "cart.expires": "確保期限",
		"cart.remaining": "残り", "cart.update": "更新", "cart.remove": "削除", "cart.checkout": "購入手続きへ",
		"res.pending": "確認中", "res.reserved": "確保済", "res.rejected": "在庫不足", "res.expired": "期限切れ", "res.not_required": "不要",
		"checkout.title": "購入手続き", "checkout.email": "メールアドレス", "checkout.name": "お名前", "checkout.phone": "電話番号",
		"checkout.postal_code": "郵便番号", "checkout.prefecture": "都道府県", "checkout.city": "市区町村", "checkout.line1": "番地",
		"checkout.line2": "建物名・部屋番号", "checkout.payment": "お支払い方法", "checkout.bank_transfer": "銀行振込",
		"checkout.cod": "代金引換", "checkout.place": "注文を確定する", "checkout.note": "備考",
		"status.title": "ご注文状況", "status.thanks": "ご注文ありがとうございます", "status.transfer": "お振込先",
		"status.bank": "銀行", "status.branch": "支店", "status.account": "口座", "status.holder": "名義",
		"status.reference": "振込時のお名前の前に付ける番号", "status.deadline": "お振込期限",
		"error.title": "エラー", "error.back": "戻る",
		"flash.confirmed": "振込を確認しました", "flash.shipped": "出荷しました", "flash.delivered": "配達完了にしました",
		"flash.cod": "代引回収を記録しました", "flash.cancelled": "キャンセルしました", "flash.saved": "保存しました",
		"st.pending_payment": "入金待ち", "st.pending_shipment": "出荷待ち", "st.partially_shipped": "一部出荷済",
		"st.shipped": "出荷済", "st.completed": "完了", "st.cancelled": "キャンセル", "st.delivered": "配達済",
		"st.pending": "未出荷", "st.paid": "支払済", "st.partially_paid": "一部入金", "st.overpaid": "過入金",
		"st.refunded": "返金済", "st.active": "販売中", "st.draft": "下書き", "st.archived": "アーカイブ",
		"st.collected": "回収済", "st.awaiting_collection": "回収待ち",
		"pm.bank_transfer": "銀行振込", "pm.cod": "代金引換",
	},
	"en": {
		"app.admin": "Honten backoffice", "app.store": "Honten", "lang.switch": "日本語", "lang.other": "ja",
		"nav.dashboard": "Dashboard", "nav.orders": "Orders", "nav.products": "Products", "nav.imports": "CSV import",
		"nav.staff": "Staff", "nav.settings": "Settings", "nav.ledger": "Ledger", "nav.statements": "Bank statements",
		"nav.signout": "Sign out", "nav.main": "Main menu",
		"signin.title": "Sign in", "signin.email": "E-mail", "signin.password": "Password", "signin.shop": "Shop code (optional)",
		"signin.submit": "Sign in", "signin.failed": "Wrong e-mail or password",
		"dash.title": "Dashboard", "dash.today_orders": "Orders today", "dash.today_sales": "Sales today",
		"dash.transfers_due": "Transfers due soon", "dash.low_stock": "Low stock", "dash.failing": "Needs attention",
		"dash.poisoned": "Failed reactions", "dash.lag": "Read-model lag", "dash.none": "None",
		"dash.seconds": "s",
		"orders.title": "Orders", "orders.search": "Search (number, e-mail, name)", "orders.status": "Status",
		"orders.payment_method": "Payment method", "orders.from": "From", "orders.to": "To", "orders.filter": "Filter",
		"orders.any": "Any", "orders.next": "Next page", "orders.number": "Number", "orders.customer": "Customer",
		"orders.total": "Total", "orders.created": "Placed", "orders.payment": "Payment", "orders.empty": "No orders match",
		"order.lines": "Lines", "order.sku": "SKU", "order.item": "Item", "order.qty": "Qty", "order.unit_price": "Unit price",
		"order.cancelled_qty": "Cancelled", "order.payments": "Payments", "order.shipments": "Shipments", "order.timeline": "Event timeline",
		"order.address": "Ship to", "order.totals": "Totals", "order.subtotal": "Subtotal", "order.shipping": "Shipping",
		"order.cod_fee": "COD fee", "order.discount": "Discount", "order.total": "Total", "order.amount": "Amount",
		"order.received": "Received", "order.balance_due": "Balance due", "order.reference": "Transfer reference", "order.due": "Due",
		"order.confirm_transfer": "Confirm transfer", "order.received_at": "Received on", "order.carrier": "Carrier",
		"order.tracking": "Tracking number", "order.ship": "Ship", "order.deliver": "Mark delivered", "order.record_cod": "Record COD collected",
		"order.cancel": "Cancel order", "order.reason": "Reason", "order.as_of": "Order as of here", "order.as_of_title": "The order as it stood at event",
		"order.back_to_now": "Back to the order now", "order.event": "Event", "order.who": "Who", "order.when": "When",
		"order.version": "Version", "order.status": "Status", "order.stream": "Of",
		"products.title": "Products", "products.status": "Status", "products.category": "Category", "products.handle": "Handle",
		"products.variants": "Variants", "products.filter": "Filter", "products.next": "Next page", "products.export": "Export CSV",
		"product.edit": "Edit product", "product.title": "Title", "product.description": "Description", "product.save": "Save",
		"variant.title": "Name", "variant.price": "Price", "variant.status": "Status", "variant.is_hot": "Hot item (priority lane)",
		"variant.stock": "Stock", "variant.on_hand": "On hand", "variant.reserved": "Reserved", "variant.available": "Available",
		"variant.location": "Location", "variant.set_stock": "Set stock", "variant.save": "Save variant",
		"imports.title": "CSV import", "imports.file": "CSV file", "imports.upload": "Import", "imports.progress": "Progress",
		"imports.rows": "rows", "imports.errors": "Errors", "imports.line": "Line", "imports.state": "State",
		"exports.title": "CSV exports", "exports.products": "Products CSV", "exports.orders": "Orders CSV",
		"store.search": "Search products", "store.search_button": "Search", "store.categories": "Categories", "store.cart": "Cart",
		"store.price": "Price", "store.in_stock": "In stock", "store.out_of_stock": "Out of stock", "store.variant": "Variant",
		"store.quantity": "Quantity", "store.add_to_cart": "Add to cart", "store.no_results": "No products found",
		"store.facets": "Refine", "store.all": "All products", "store.stock": "Stock",
		"cart.title": "Cart", "cart.empty": "Your cart is empty", "cart.reservation": "Stock hold", "cart.expires": "Held until",
		"cart.remaining": "left", "cart.update": "Update", "cart.remove": "Remove", "cart.checkout": "Check out",
		"res.pending": "Checking", "res.reserved": "Reserved", "res.rejected": "Not enough stock", "res.expired": "Expired", "res.not_required": "Not needed",
		"checkout.title": "Checkout", "checkout.email": "E-mail", "checkout.name": "Name", "checkout.phone": "Phone",
		"checkout.postal_code": "Postal code", "checkout.prefecture": "Prefecture", "checkout.city": "City", "checkout.line1": "Street address",
		"checkout.line2": "Building, room", "checkout.payment": "Payment method", "checkout.bank_transfer": "Bank transfer",
		"checkout.cod": "Cash on delivery", "checkout.place": "Place order", "checkout.note": "Note",
		"status.title": "Your order", "status.thanks": "Thank you for your order", "status.transfer": "Pay by bank transfer to",
		"status.bank": "Bank", "status.branch": "Branch", "status.account": "Account", "status.holder": "Holder",
		"status.reference": "Reference to put before your name", "status.deadline": "Pay by",
		"error.title": "Error", "error.back": "Back",
		"flash.confirmed": "Transfer confirmed", "flash.shipped": "Shipped", "flash.delivered": "Marked delivered",
		"flash.cod": "COD collection recorded", "flash.cancelled": "Cancelled", "flash.saved": "Saved",
		"st.pending_payment": "Awaiting payment", "st.pending_shipment": "Awaiting shipment", "st.partially_shipped": "Partially shipped",
		"st.shipped": "Shipped", "st.completed": "Completed", "st.cancelled": "Cancelled", "st.delivered": "Delivered",
		"st.pending": "Pending", "st.paid": "Paid", "st.partially_paid": "Partially paid", "st.overpaid": "Overpaid",
		"st.refunded": "Refunded", "st.active": "Active", "st.draft": "Draft", "st.archived": "Archived",
		"st.collected": "Collected", "st.awaiting_collection": "Awaiting collection",
		"pm.bank_transfer": "Bank transfer", "pm.cod": "Cash on delivery",
	},
}
