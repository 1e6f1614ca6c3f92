package console

import "fmt"

// lang is a page's language: zh-CN first, English on request.
type lang string

const (
	zh lang = "zh-CN"
	en lang = "en"
)

// messages holds every sentence and label the console shows, in both
// languages, keyed by what it says. A key missing here is a test failure
// (TestEveryMessageHasBothLanguages walks the templates), never a blank.
var messages = map[string][2]string{
	"app.name":  {"三治信农贷", "Sanzhi rural credit"},
	"nav.board": {"公示栏", "Notice board"},
	// The bank's and the regulator's navigation (issue 15's pages).
	"bank.nav_customers":  {"查询客户", "Customers"},
	"bank.nav_lines":      {"授信台账", "Credit lines"},
	"bank.nav_reviews":    {"复核与调整", "Reviews and overrides"},
	"bank.nav_inbox":      {"额度消息", "Line events"},
	"bank.nav_policies":   {"授信政策", "Credit policies"},
	"bank.nav_webhook":    {"推送设置", "Webhook"},
	"reg.nav_audit":       {"审计日志", "Audit log"},
	"reg.nav_replay":      {"决策重放", "Decision replay"},
	"reg.nav_records":     {"查询记录", "Query records"},
	"reg.nav_policies":    {"政策版本", "Policy versions"},
	"nav.me":              {"我的成绩单", "My report card"},
	"nav.household":       {"本户", "My household"},
	"nav.site":            {"页面", "Pages"},
	"nav.signout":         {"退出登录", "Sign out"},
	"nav.lang":            {"English", "中文"},
	"signin.title":        {"登录", "Sign in"},
	"signin.staff":        {"村干部登录", "Village staff"},
	"signin.username":     {"用户名", "Username"},
	"signin.password":     {"密码", "Password"},
	"signin.submit":       {"登录", "Sign in"},
	"signin.household":    {"农户登录", "Households"},
	"signin.code":         {"登录码（村委会发的纸条上）", "Sign-in code (on the slip from the village committee)"},
	"signin.code_filled":  {"登录码已按纸条上的二维码填好，核对无误后点“登录”。", "The code from your slip's QR code is filled in; check it, then tap “Sign in”."},
	"signin.failed":       {"用户名或密码不对，请重新输入。", "The username or password is not right; please try again."},
	"signin.code_failed":  {"登录码不对或已作废，请找村委会重新领取。", "That code is not right or no longer valid; ask the village committee for a new one."},
	"signin.throttled":    {"尝试次数太多，请15分钟后再试。", "Too many attempts; please try again in 15 minutes."},
	"signin.required":     {"请先登录。", "Please sign in first."},
	"board.title":         {"公示栏", "Public notice board"},
	"board.code":          {"村代码", "Village code"},
	"board.today":         {"日期", "Date"},
	"board.intro":         {"以下积分事项正在公示。有异议的，请在公示截止日前向村委会提出，或由本户在手机上提出。", "These points entries are on public notice. To object, tell the village committee before the notice ends, or the household can object on its phone."},
	"board.empty":         {"目前没有公示中的事项。", "Nothing is on notice now."},
	"board.household":     {"户主", "Head of household"},
	"board.group":         {"组", "Group"},
	"board.address":       {"门牌", "House number"},
	"board.item":          {"事项", "Item"},
	"board.points":        {"积分", "Points"},
	"board.occurred":      {"发生日期", "Date"},
	"board.notice_end":    {"公示截止", "Notice ends"},
	"board.disputed":      {"有异议，待处理", "Objected to, under review"},
	"board.print":         {"打印（A4）", "Print (A4)"},
	"board.group_n":       {"%d组", "group %d"},
	"kind.points":         {"积分", "points"},
	"kind.star_rating":    {"星级文明户", "civilised-household stars"},
	"kind.red_list":       {"红榜", "red list"},
	"kind.black_list":     {"黑榜", "black list"},
	"kind.recommendation": {"信用推荐", "credit recommendation"},
	"card.title":          {"我的成绩单", "My report card"},
	"card.credit":         {"信用积分", "Credit points"},
	"card.redeemable":     {"可兑换积分", "Points to redeem"},
	"card.by_area":        {"各领域积分", "Points by area"},
	"card.history":        {"积分记录", "Points history"},
	"card.on_notice":      {"正在公示", "On notice now"},
	"card.none":           {"暂无记录。", "Nothing yet."},
	"card.as_of":          {"截至", "As of"},
	"card.base":           {"基础分", "Base points"},
	"card.effective":      {"生效日期", "Effective"},
	"card.print":          {"打印", "Print"},
	"password.title":      {"修改密码", "Change your password"},
	"password.must":       {"第一次登录，请把管理员设的密码改成只有您知道的密码。", "This is your first sign-in: replace the password the administrator set with one only you know."},
	"password.old":        {"现在的密码", "Current password"},
	"password.new":        {"新密码（至少10个字符）", "New password (at least 10 characters)"},
	"password.confirm":    {"再输一次新密码", "New password again"},
	"password.mismatch":   {"两次输入的新密码不一样。", "The two new passwords are not the same."},
	"password.submit":     {"保存新密码", "Save the new password"},
	"err.title":           {"出错了", "Something went wrong"},
	"err.forbidden":       {"您没有查看这个页面的权限。", "You may not see this page."},
	"err.not_found":       {"没有找到这个页面。", "This page does not exist."},
	"err.internal":        {"系统出了问题，请稍后再试。问题已记录。", "Something went wrong on our side; please try again later. It has been logged."},
	"err.csrf":            {"页面已过期，请返回后重新提交。", "This page has expired; go back and submit it again."},
	"err.back":            {"返回首页", "Back to the start"},
	"home.other_role":     {"本控制台目前服务村委会和农户。银行和监管请使用接口或命令行。", "This console serves village committees and households for now; banks and regulators use the API or the CLI."},
}

func init() {
	for _, part := range []map[string][2]string{householdMessages, clerkMessages, reviewerMessages} {
		for k, v := range part {
			if _, dup := messages[k]; dup {
				panic("console: message " + k + " defined twice")
			}
			messages[k] = v
		}
	}
}

// text returns the message key in l, formatted with args. An unknown key
// shows itself, so a gap is visible rather than blank.
// addMessages adds the messages of one page's file (each page family keeps
// its words beside its code); a key defined twice is a programming error.
func addMessages(m map[string][2]string) {
	for k, v := range m {
		if _, dup := messages[k]; dup {
			panic("console: message " + k + " defined twice")
		}
		messages[k] = v
	}
}

func text(l lang, key string, args ...any) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	s := m[0]
	if l == en {
		s = m[1]
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}
