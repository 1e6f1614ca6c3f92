package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/rpc"
	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/internal/cli"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/shop"
)

// shopCmd is the village clerk's 兑换超市 at a terminal: the goods and
// their stock, deliveries, redemption at the counter with a receipt, and
// the month's report. Every command acts as the principal whose key is
// given, through the same policy and service as the API and the console.
func shopCmd(open func(context.Context) (server.Store, error)) *cobra.Command {
	cmd := &cobra.Command{Use: "shop", Short: "The village's 兑换超市: goods, deliveries, redemption at the counter, the monthly report"}
	var apiKey, lang, note, requestID, month, nameEN string
	var code, nameZH, unit, price string
	var archived, restore, asCSV bool
	// as authorises action on the resource names and runs fn as the
	// key's principal.
	as := func(ctx context.Context, action access.Action, names []string, fn func(a *app.App, p *access.Principal) error) error {
		return asActor(ctx, open, apiKey, false, func(a *app.App, p *access.Principal) error {
			if err := access.Authorise(p, action, rpc.Target(names...)); err != nil {
				return err
			}
			return fn(a, p)
		})
	}
	// reqID is the flag's request id, or a new one, printed so that a
	// retry can send the same.
	reqID := func(out io.Writer) string {
		if requestID != "" {
			return requestID
		}
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id := "cli-" + hex.EncodeToString(b)
		fmt.Fprintf(out, "request id %s (give --request-id %s to retry without doing it twice)\n", id, id)
		return id
	}

	goods := &cobra.Command{
		Use:   "goods villages/V",
		Short: "List the village's goods with their price and stock",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return as(cmd.Context(), access.ShopGoodRead, args, func(a *app.App, _ *access.Principal) error {
				gs, err := a.Shop.Goods(cmd.Context(), args[0], archived)
				if err != nil {
					return err
				}
				printGoods(cmd.OutOrStdout(), gs)
				return nil
			})
		},
	}
	goods.Flags().BoolVar(&archived, "archived", false, "also list the goods no longer offered")

	add := &cobra.Command{
		Use:   "add-good villages/V",
		Short: "Add a good to the village's catalogue (no stock: record a delivery with 'arrive')",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return as(cmd.Context(), access.ShopGoodWrite, args, func(a *app.App, p *access.Principal) error {
				g, created, err := a.Shop.CreateGood(cmd.Context(), p, shop.GoodInput{Parent: args[0], Code: code, NameZH: nameZH,
					NameEN: nameEN, Unit: unit, Price: price})
				if err != nil {
					return explainShop(cmd.OutOrStdout(), lang, err)
				}
				if !created {
					fmt.Fprintln(cmd.OutOrStdout(), "already in the catalogue, unchanged:")
				}
				printGoods(cmd.OutOrStdout(), []*shop.Good{g})
				return nil
			})
		},
	}
	add.Flags().StringVar(&code, "code", "", "the good's code: lower-case letters, digits, dots and hyphens (rice-2.5kg)")
	add.Flags().StringVar(&nameZH, "name-zh", "", "the name on the shelf and the receipt (大米 2.5kg)")
	add.Flags().StringVar(&nameEN, "name-en", "", "the English name (optional)")
	add.Flags().StringVar(&unit, "unit", "", "what one is counted in (袋, 瓶, 块)")
	add.Flags().StringVar(&price, "price", "", "points per unit")
	for _, f := range []string{"code", "name-zh", "unit", "price"} {
		_ = add.MarkFlagRequired(f)
	}

	setPrice := &cobra.Command{
		Use:   "set-price villages/V/goods/CODE PRICE",
		Short: "Change a good's price in points (receipts keep the price they were made at)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return as(cmd.Context(), access.ShopGoodWrite, args[:1], func(a *app.App, p *access.Principal) error {
				g, err := a.Shop.UpdateGood(cmd.Context(), p, shop.UpdateInput{Name: args[0], Price: args[1]})
				if err != nil {
					return explainShop(cmd.OutOrStdout(), lang, err)
				}
				printGoods(cmd.OutOrStdout(), []*shop.Good{g})
				return nil
			})
		},
	}

	archive := &cobra.Command{
		Use:   "archive villages/V/goods/CODE",
		Short: "Take a good off offer (--restore puts it back); its receipts stay",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return as(cmd.Context(), access.ShopGoodWrite, args, func(a *app.App, p *access.Principal) error {
				off := !restore
				g, err := a.Shop.UpdateGood(cmd.Context(), p, shop.UpdateInput{Name: args[0], Archived: &off})
				if err != nil {
					return explainShop(cmd.OutOrStdout(), lang, err)
				}
				printGoods(cmd.OutOrStdout(), []*shop.Good{g})
				return nil
			})
		},
	}
	archive.Flags().BoolVar(&restore, "restore", false, "put the good back on offer")

	arrive := &cobra.Command{
		Use:   "arrive villages/V/goods/CODE QUANTITY",
		Short: "Record a delivery: QUANTITY units of a good arrived (once per --request-id)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			q, err := strconv.ParseInt(args[1], 10, 64)
			if err != nil {
				return cli.Usagef("QUANTITY %q is not a whole number", args[1])
			}
			return as(cmd.Context(), access.ShopArrival, args[:1], func(a *app.App, p *access.Principal) error {
				arr, g, dup, err := a.Shop.RecordArrival(cmd.Context(), p, shop.ArrivalInput{Good: args[0], Quantity: q, Note: note,
					RequestID: reqID(cmd.OutOrStdout())})
				if err != nil {
					return explainShop(cmd.OutOrStdout(), lang, err)
				}
				if dup {
					fmt.Fprintln(cmd.OutOrStdout(), "recorded before under this request id: nothing added")
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %d arrived on %s, stock now %d\n", g.Code, arr.Quantity, arr.Day, g.Stock)
				return nil
			})
		},
	}
	arrive.Flags().StringVar(&note, "note", "", "e.g. the supplier's delivery note")

	redeem := &cobra.Command{
		Use:   "redeem villages/V/households/ID CODE QUANTITY",
		Short: "Give a household QUANTITY units of a good for its redeemable points and print the receipt",
		Long: `Give a household QUANTITY units of the good CODE for its redeemable points, as the village
clerk whose API key is given (--key or $SANZHI_KEY), and print the receipt in --lang. The stock and the
household's redeemable points change together or not at all; more than the stock or the balance is
refused with the reason, and nothing is written. Credit points are never touched. Give the same
--request-id to retry: a redemption is made once per household and request id.`,
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			q, err := strconv.ParseInt(args[2], 10, 64)
			if err != nil {
				return cli.Usagef("QUANTITY %q is not a whole number", args[2])
			}
			en, err := parseLang(lang)
			if err != nil {
				return err
			}
			return as(cmd.Context(), access.ShopRedeem, args[:1], func(a *app.App, p *access.Principal) error {
				r, err := a.Shop.Redeem(cmd.Context(), p, shop.RedeemInput{Household: args[0], Good: args[1], Quantity: q, Note: note,
					RequestID: reqID(cmd.OutOrStdout())})
				if err != nil {
					return explainShop(cmd.OutOrStdout(), lang, err)
				}
				if r.Duplicate {
					fmt.Fprintln(cmd.OutOrStdout(), "redeemed before under this request id: the first receipt, nothing taken again")
				}
				printReceipt(cmd.OutOrStdout(), r.Receipt, en)
				return nil
			})
		},
	}
	redeem.Flags().StringVar(&note, "note", "", "a note on the receipt (never a 身份证号)")

	receipts := &cobra.Command{
		Use:   "receipts villages/V[/households/ID]",
		Short: "List receipts, newest first: the village's or one household's (--month to one month)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return as(cmd.Context(), access.ShopReceiptRead, args, func(a *app.App, _ *access.Principal) error {
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "DAY\tHOUSEHOLD\tGOOD\tQUANTITY\tPOINTS\tREDEEMABLE AFTER\tRECEIPT")
				token := ""
				for {
					page, err := a.Shop.Receipts(cmd.Context(), args[0], month, 1000, token)
					if err != nil {
						return explainShop(cmd.OutOrStdout(), lang, err)
					}
					for _, r := range page.Receipts {
						fmt.Fprintf(tw, "%s\t%s\t%s\t%d %s\t%s\t%s\t%s\n", r.Day, r.Household, r.Code, r.Quantity, r.Unit, r.Points,
							r.RedeemableAfter, r.ID)
					}
					if token = page.NextToken; token == "" {
						break
					}
				}
				return tw.Flush()
			})
		},
	}
	receipts.Flags().StringVar(&month, "month", "", "only this month (YYYY-MM, Asia/Shanghai)")

	report := &cobra.Command{
		Use:   "report villages/V YYYY-MM",
		Short: "The month's goods redeemed and points spent, per good and in total (--csv for Excel)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			en, err := parseLang(lang)
			if err != nil {
				return err
			}
			return as(cmd.Context(), access.ShopReportRead, args[:1], func(a *app.App, _ *access.Principal) error {
				r, err := a.Shop.MonthlyReport(cmd.Context(), args[0], args[1])
				if err != nil {
					return explainShop(cmd.OutOrStdout(), lang, err)
				}
				if asCSV {
					return r.WriteCSV(cmd.OutOrStdout(), en)
				}
				printShopReport(cmd.OutOrStdout(), r, en)
				return nil
			})
		},
	}
	report.Flags().BoolVar(&asCSV, "csv", false, "write CSV (UTF-8 with a byte order mark, as Excel reads it)")

	all := []*cobra.Command{goods, add, setPrice, archive, arrive, redeem, receipts, report}
	for _, c := range all {
		addKeyFlag(c, &apiKey, "acting (a village clerk; staff and regulators may read)")
		c.Flags().StringVar(&lang, "lang", "zh-CN", "language of receipts, reports and refusals: zh-CN or en")
	}
	for _, c := range []*cobra.Command{arrive, redeem} {
		c.Flags().StringVar(&requestID, "request-id", "", "idempotency key: the same id again does nothing twice (default: a new one, printed)")
	}
	cmd.AddCommand(all...)
	return cmd
}

// explainShop prints the refusal's field violations in lang (zh-CN by
// default, the words the clerk reads at the counter) and returns the
// error for the exit status.
func explainShop(out io.Writer, lang string, err error) error {
	var fe *fault.Error
	if !errors.As(err, &fe) || len(fe.Violations) == 0 {
		return err
	}
	en, _ := parseLang(lang)
	for _, v := range fe.Violations {
		msg := v.Description
		if !en && v.ZH != "" {
			msg = v.ZH
		}
		fmt.Fprintf(out, "%s: %s\n", v.Field, msg)
	}
	return fmt.Errorf("%s: nothing written", fe.Reason)
}

func printGoods(out io.Writer, gs []*shop.Good) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\tNAME\tUNIT\tPRICE\tSTOCK\tOFFERED")
	for _, g := range gs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%t\n", g.Code, g.NameZH, g.Unit, g.Price, g.Stock, !g.Archived)
	}
	_ = tw.Flush()
}

// printReceipt writes the receipt as the counter hands it over.
func printReceipt(out io.Writer, r *shop.Receipt, en bool) {
	t := r.Time.In(household.Shanghai).Format("2006-01-02 15:04")
	if en {
		name := r.NameEN
		if name == "" {
			name = r.NameZH
		}
		fmt.Fprintf(out, "兑换超市 receipt %s\nhousehold  %s\ntime       %s (Asia/Shanghai)\ngood       %s (%s)\n", r.ID, r.HouseholdName(), t, name, r.Code)
		fmt.Fprintf(out, "quantity   %d %s at %s points\npoints     %s\nredeemable %s points left\n", r.Quantity, r.Unit, r.Price, r.Points, r.RedeemableAfter)
	} else {
		fmt.Fprintf(out, "兑换超市收据 %s\n农户  %s\n时间  %s\n物品  %s（%s）\n", r.ID, r.HouseholdName(), t, r.NameZH, r.Code)
		fmt.Fprintf(out, "数量  %d %s，单价 %s 分\n积分  %s\n余额  可兑换积分 %s\n", r.Quantity, r.Unit, r.Price, r.Points, r.RedeemableAfter)
	}
	if r.Note != "" {
		fmt.Fprintf(out, "%s  %s\n", map[bool]string{true: "note      ", false: "备注"}[en], r.Note)
	}
}

func printShopReport(out io.Writer, r shop.Report, en bool) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	head, total, state := "物品编码\t物品\t单位\t兑换笔数\t兑换数量\t消耗积分\t到货数量", "合计", "（月未结束，数字可能增加）"
	if en {
		head, total, state = "CODE\tGOOD\tUNIT\tREDEMPTIONS\tQUANTITY\tPOINTS SPENT\tARRIVED", "Total", " (month not over: figures may grow)"
	}
	if r.Final {
		state = ""
	}
	fmt.Fprintf(out, "%s %s..%s%s\n", r.Month, r.From, r.To, state)
	fmt.Fprintln(tw, head)
	for _, x := range r.Rows {
		name := x.NameZH
		if en && x.NameEN != "" {
			name = x.NameEN
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%d\n", x.Code, name, x.Unit, x.Receipts, x.Quantity, x.Points, x.Arrived)
	}
	fmt.Fprintf(tw, "%s\t\t\t%d\t%d\t%s\t%d\n", total, r.Receipts, r.Quantity, r.Points, r.Arrived)
	_ = tw.Flush()
}
