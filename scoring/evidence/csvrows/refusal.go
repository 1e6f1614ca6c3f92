package csvrows

import (
	"errors"
	"path"
	"strconv"
	"strings"

	"github.com/sanzhi/sanzhi/fault"
)

// Refusals: the evidence service refused a row the file itself allowed
// (Refusal makes them from its error). The service's own descriptions
// are English and name codes, so each refusal a spreadsheet can meet has
// its sentence here, in both languages, like the file's problems.
const (
	// UnknownItem: the item code is not in the village's catalogue.
	UnknownItem Reason = "unknown_item"
	// QuantityRefused: more than the item allows in one submission.
	QuantityRefused Reason = "quantity_refused"
	// DateRefused: in the future, before the catalogue's back-dating
	// limit, or before the household was registered.
	DateRefused Reason = "date_refused"
	// WitnessRequired: the item needs a named witness.
	WitnessRequired Reason = "witness_required"
	// AttachmentRequired: the item needs a photo or a document, which a
	// spreadsheet row cannot carry.
	AttachmentRequired Reason = "attachment_required"
	// SystemSourceRequired: the item is machine-recorded and the row does
	// not name the system.
	SystemSourceRequired Reason = "system_source_required"
	// NoteRefused: the note is too long or holds a 身份证号.
	NoteRefused Reason = "note_refused"
	// RequestIDReused: the request id was used before for a record with
	// other content.
	RequestIDReused Reason = "request_id_reused"
	// Refused: any other refusal; Detail is the service's reason code
	// (e.g. INVALID_ARGUMENT), Column the column it concerns, if known.
	Refused Reason = "refused"
)

// serviceColumn is the spreadsheet column holding each field the evidence
// service may refuse.
var serviceColumn = map[string]string{
	"parent": colHousehold, "item_code": colItemCode, "occurred_on": colOccurredOn, "quantity": colQuantity,
	"note": colNote, "witness": colWitness, "system_source": colSystemSource, "attachments": colPhoto,
	"request_id": colRequestID,
}

// Refusal is the evidence service's refusal err of row as a row problem,
// at the column of its first violation. Its Message never carries the
// service's text: a refusal this package has no sentence for is told by
// its reason code.
func Refusal(row Row, err error) Problem {
	p := Problem{Row: row.Row, Line: row.Line, Reason: Refused}
	var fe *fault.Error
	if !errors.As(err, &fe) {
		return p
	}
	p.Detail = fe.Reason
	field := ""
	if len(fe.Violations) > 0 {
		field = fe.Violations[0].Field
	}
	if strings.HasPrefix(field, "attachments") {
		field = "attachments"
	}
	switch {
	case fe.Reason == "HOUSEHOLD_NOT_FOUND":
		field, p.Reason = "parent", NoSuchHousehold
	case fe.Reason == "REQUEST_ID_REUSED":
		field, p.Reason = "request_id", RequestIDReused
	case fe.Kind == fault.Invalid:
		p.Reason = map[string]Reason{
			"parent": WrongVillage, "item_code": UnknownItem, "quantity": QuantityRefused,
			"occurred_on": DateRefused, "witness": WitnessRequired, "attachments": AttachmentRequired,
			"system_source": SystemSourceRequired, "note": NoteRefused, "request_id": RequestIDReused,
		}[field]
		if p.Reason == "" {
			p.Reason = Refused
		}
	}
	p.Column = serviceColumn[field]
	in := row.Input
	switch p.Column {
	case colHousehold:
		if row.Ref != nil {
			p.Value = row.Ref.Masked()
		} else {
			p.Value = path.Base(in.Parent) // the household's id, as the sheet gives it
		}
	case colItemCode:
		p.Value = in.ItemCode
	case colOccurredOn:
		p.Value = in.OccurredOn
	case colQuantity:
		p.Value = strconv.Itoa(int(in.Quantity))
	case colRequestID:
		p.Value = in.RequestID
	}
	p.Value = mask(p.Value)
	return p
}

func (p Problem) refusalZH(at string) (string, bool) {
	switch p.Reason {
	case UnknownItem:
		return at + "的值「" + p.Value + "」不在本村的积分目录里，请对照本村积分目录核对事项代码", true
	case QuantityRefused:
		return at + "的值「" + p.Value + "」超过了这个事项的上限", true
	case DateRefused:
		return at + "的值「" + p.Value + "」不能是将来，也不能早于补登期限或本户登记日期", true
	case WitnessRequired:
		return at + "需要填写：这个事项需要证明人，请写明不是本户的人的姓名和身份", true
	case AttachmentRequired:
		return "第 " + strconv.Itoa(p.Row) + " 行的事项需要照片或证明文件，表格导入不能附照片，请逐条登记", true
	case SystemSourceRequired:
		return at + "需要填写：这个事项由机器自动记录，请写明记录它的系统", true
	case NoteRefused:
		return at + "太长，或写了身份证号（说明里不能写身份证号）", true
	case RequestIDReused:
		return at + "的值「" + p.Value + "」已用于内容不同的另一条记录，请换一个编号", true
	case Refused:
		where := "第 " + strconv.Itoa(p.Row) + " 行"
		if p.Column != "" {
			where = at
		}
		return where + "未被接受（原因代码 " + orUnknown(p.Detail) + "），请核对这一行", true
	}
	return "", false
}

func (p Problem) refusalEN(at string) (string, bool) {
	switch p.Reason {
	case UnknownItem:
		return at + ": " + strconv.Quote(p.Value) + " is not in the village's points list; check the item code", true
	case QuantityRefused:
		return at + ": " + strconv.Quote(p.Value) + " is more than the item allows", true
	case DateRefused:
		return at + ": " + strconv.Quote(p.Value) + " cannot be in the future, nor before the back-dating limit or the household's registration", true
	case WitnessRequired:
		return at + ": this item needs a witness: the name and role of someone outside the household", true
	case AttachmentRequired:
		return "row " + strconv.Itoa(p.Row) + ": this item needs a photo or document, which a spreadsheet cannot carry; record it on its own", true
	case SystemSourceRequired:
		return at + ": this item is recorded by machines: name the system that recorded it", true
	case NoteRefused:
		return at + ": too long, or holds an ID card number (a note must not)", true
	case RequestIDReused:
		return at + ": " + strconv.Quote(p.Value) + " was already used for a different record; use another", true
	case Refused:
		where := "row " + strconv.Itoa(p.Row)
		if p.Column != "" {
			where = at
		}
		return where + ": refused (reason " + orUnknown(p.Detail) + "); check the row", true
	}
	return "", false
}

func orUnknown(code string) string {
	if code == "" {
		return "INTERNAL"
	}
	return code
}
