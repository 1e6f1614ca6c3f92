package signin

// Reason codes: stable, for the console to word (Messages has a sentence
// of each in English and zh-CN) and for tests to match.
const (
	// ReasonFailed: wrong username, password or code, or a revoked
	// principal. One reason for all, so a stranger cannot tell which.
	// Kind Unauthenticated.
	ReasonFailed = "SIGNIN_FAILED"
	// ReasonThrottled: too many failures lately; kind ResourceExhausted.
	ReasonThrottled = "SIGNIN_THROTTLED"
	// ReasonSessionExpired: idle or absolute expiry; kind Unauthenticated.
	ReasonSessionExpired = "SESSION_EXPIRED"
	// ReasonSessionUnknown: no such session, signed out, ended by a
	// password change or a revoked principal; kind Unauthenticated.
	ReasonSessionUnknown = "SESSION_UNKNOWN"
	// ReasonPasswordWrong: ChangePassword's old password is wrong; kind
	// Invalid, violation on field "old_password".
	ReasonPasswordWrong = "PASSWORD_WRONG"
	// ReasonNotStaff: a household principal has no password (it signs in
	// with a code); kind FailedPrecondition.
	ReasonNotStaff = "PASSWORD_NOT_FOR_HOUSEHOLDS"
	// ReasonPrincipalRevoked: SetPassword on a revoked principal; kind
	// FailedPrecondition.
	ReasonPrincipalRevoked = "PRINCIPAL_REVOKED"
	// Password policy violations (CheckPassword): kind Invalid, the
	// reason on the violation of field "password".
	ReasonPasswordTooShort   = "PASSWORD_TOO_SHORT"
	ReasonPasswordTooLong    = "PASSWORD_TOO_LONG"
	ReasonPasswordIsUsername = "PASSWORD_IS_USERNAME"
	ReasonPasswordOneChar    = "PASSWORD_ONE_CHARACTER"
	ReasonPasswordInvalid    = "PASSWORD_NOT_UTF8"
)

// Message is a sentence for people, in both languages.
type Message struct{ EN, ZH string }

// Messages words each reason code for the console's pages.
var Messages = map[string]Message{
	ReasonFailed: {"The username, password or access code is not correct.",
		"用户名、密码或访问码不正确。"},
	ReasonThrottled: {"Too many failed sign-ins. Please wait 15 minutes and try again.",
		"登录失败次数过多，请 15 分钟后再试。"},
	ReasonSessionExpired: {"Your session has expired. Please sign in again.",
		"登录已过期，请重新登录。"},
	ReasonSessionUnknown: {"You are not signed in. Please sign in.",
		"您尚未登录，请先登录。"},
	ReasonPasswordWrong: {"The current password is not correct.",
		"当前密码不正确。"},
	ReasonNotStaff: {"Households sign in with the access code from their village office, not a password.",
		"农户使用村委会发放的访问码登录，不使用密码。"},
	ReasonPrincipalRevoked: {"This account has been revoked.",
		"该账号已被停用。"},
	ReasonPasswordTooShort: {"The password must have at least 10 characters.",
		"密码至少需要 10 个字符。"},
	ReasonPasswordTooLong: {"The password must have at most 128 characters.",
		"密码最多 128 个字符。"},
	ReasonPasswordIsUsername: {"The password must not be the username.",
		"密码不能与用户名相同。"},
	ReasonPasswordOneChar: {"The password must not be one character repeated.",
		"密码不能由同一个字符重复组成。"},
	ReasonPasswordInvalid: {"The password contains characters that cannot be read.",
		"密码包含无法识别的字符。"},
}
