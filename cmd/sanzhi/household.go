package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/rpc"
	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// householdCmd lists and sets a household's members as a village clerk
// (by API key), through the same service and rules as the API and the
// console. 身份证号 come from a file, never from a flag: flags show in
// `ps` and shell history.
func householdCmd(database *string, open func(context.Context) (server.Store, error)) *cobra.Command {
	cmd := &cobra.Command{Use: "household", Short: "A household's members: list them, or set them from a CSV file"}
	var apiKey, keyFile string
	withApp := func(ctx context.Context, name string, action access.Action, fn func(svc *household.Service, p *access.Principal) error) error {
		kr, err := explainKeyring(*database, keyFile)
		if err != nil {
			return err
		}
		db, err := open(ctx)
		if err != nil {
			return err
		}
		defer db.Close()
		p, err := identify(ctx, db.Store().Principals(), apiKey, false)
		if err != nil {
			return err
		}
		if err := access.Authorise(p, action, rpc.Target(name)); err != nil {
			return err
		}
		a, err := services(db.Store(), kr)
		if err != nil {
			return err
		}
		return fn(a.Households, p)
	}

	list := &cobra.Command{
		Use:   "members villages/V/households/ID",
		Short: "List a household's members (身份证号 masked)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withApp(cmd.Context(), args[0], access.HouseholdRead, func(svc *household.Service, _ *access.Principal) error {
				h, err := svc.Get(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				printMembers(cmd.OutOrStdout(), h)
				return nil
			})
		},
	}
	set := &cobra.Command{
		Use:   "set-members villages/V/households/ID FILE.csv",
		Short: "Replace a household's members with the rows of a CSV file (a new facts version)",
		Long: `Replace a household's member list with the rows of a UTF-8 CSV file, as the village clerk
whose API key is given (--key or $SANZHI_KEY). The header names the columns, in English or
Chinese: number (编号), name (姓名), relation (与户主关系), id_number (身份证号),
labour_status (劳动力状况). number names an existing member (see 'sanzhi household members');
leave it empty for a new member. id_number is required for a new member; for an existing one,
empty keeps the number on record. The head's row may leave name and id_number empty. Relations:
head/户主, spouse/配偶, child/子女, parent/父母, sibling/兄弟姐妹, grandchild/孙子女,
other/其他; labour status: labourer/劳动力, not_labourer/非劳动力, student/在校学生. Members
left out have left the household. The counts of people and labourers follow the list.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[1])
			if err != nil {
				return err
			}
			defer f.Close()
			ms, err := readMembers(io.LimitReader(f, 1<<20))
			if err != nil {
				return fmt.Errorf("%s: %w", args[1], err)
			}
			return withApp(cmd.Context(), args[0], access.HouseholdUpdate, func(svc *household.Service, p *access.Principal) error {
				h, err := svc.Update(cmd.Context(), p, household.UpdateInput{Name: args[0], Paths: []string{"members"}, Members: ms})
				if err != nil {
					var fe *fault.Error
					if errors.As(err, &fe) && fe.Kind == fault.Invalid {
						for _, v := range fe.Violations {
							fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", memberRow(v.Field), v.Description)
						}
						return fmt.Errorf("%s: %d problem(s); nothing stored", args[1], len(fe.Violations))
					}
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "facts version %d: %d people, %d labourers\n", h.Facts.Version, h.Facts.Members, h.Facts.Labourers)
				printMembers(cmd.OutOrStdout(), h)
				return nil
			})
		},
	}
	for _, c := range []*cobra.Command{list, set} {
		addKeyFlag(c, &apiKey, "acting (a village clerk)")
		c.Flags().StringVar(&keyFile, "data-key-file", "", "data key file that seals 身份证号 (or $SANZHI_DATA_KEY; default: the demo key beside a SQLite database)")
	}
	cmd.AddCommand(list, set)
	return cmd
}

// memberRow turns household.members[2].name into "row 3 (household.members[2].name)":
// the file's data rows count from 1 after the header.
func memberRow(field string) string {
	rest, ok := strings.CutPrefix(field, "household.members[")
	if !ok {
		return field
	}
	i, _, _ := strings.Cut(rest, "]")
	n, err := strconv.Atoi(i)
	if err != nil {
		return field
	}
	return fmt.Sprintf("row %d (%s)", n+1, field)
}

var memberColumns = map[string]string{
	"number": "number", "编号": "number", "name": "name", "姓名": "name",
	"relation": "relation", "与户主关系": "relation", "id_number": "id_number", "身份证号": "id_number",
	"labour_status": "labour_status", "劳动力状况": "labour_status",
}

// readMembers reads the CSV: a header naming the columns, then a member
// a row. Values are checked by the service, not here.
func readMembers(r io.Reader) ([]household.MemberInput, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(rows) < 2 {
		return nil, errors.New("needs a header and at least the head's row")
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		name, ok := memberColumns[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))]
		if !ok {
			return nil, fmt.Errorf("column %d is %q: not one of number, name, relation, id_number, labour_status", i+1, h)
		}
		col[name] = i
	}
	for _, need := range []string{"relation", "labour_status"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("the header has no %s column", need)
		}
	}
	get := func(row []string, name string) string {
		if i, ok := col[name]; ok && i < len(row) {
			return strings.TrimSpace(row[i])
		}
		return ""
	}
	var out []household.MemberInput
	for k, row := range rows[1:] {
		in := household.MemberInput{Name: get(row, "name"), Relation: get(row, "relation"),
			IDNumber: strings.ToUpper(get(row, "id_number")), Labour: get(row, "labour_status")}
		if s := get(row, "number"); s != "" {
			n, err := strconv.ParseInt(s, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("row %d: number %q is not a whole number", k+1, s)
			}
			in.Number = int32(n)
		}
		out = append(out, in)
	}
	return out, nil
}

func printMembers(w io.Writer, h *household.Household) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "number\tname\trelation\tid_number\tage\tlabour_status")
	today := household.Today(time.Now())
	for _, m := range h.Members {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\n", m.Number, m.Name, m.Relation.Words().ZH, m.IDMasked, m.Age(today), m.Labour.Words().ZH)
	}
	_ = tw.Flush()
}
