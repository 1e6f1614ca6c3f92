// Command gen writes synthetic households as CSV for PostgreSQL's COPY
// (households table columns, in the order run.sh lists them), with each
// head's 身份证号 sealed under the data key exactly as the service seals it
// (AAD = household id) and its blind index, so `sanzhi policy simulate`
// can decrypt every one. Household ids are 01b00000-0000-7000-8000-NNNNNNNNNNNN
// (N = the household's number), which run.sh's SQL uses to derive facts,
// points sheets and listings.
package main

import (
	"bufio"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/idnum"
)

var surnames = []rune("张王李赵陈杨吴刘黄周徐朱沈钱褚蒋费陆姚蔡")
var given = []string{"建华", "金林", "秀英", "国强", "美芳", "水根", "伟", "敏", "丽娟", "建国", "法松", "雪芳"}

func main() {
	n := flag.Int("n", 1000, "households to generate")
	from := flag.Int("from", 0, "number of the first household")
	keyFile := flag.String("key", "", "data key file (sanzhi keygen)")
	villages := flag.Int("villages", 200, "villages to spread households over (at most 990)")
	flag.Parse()
	kr, err := pii.LoadKeyringFile(*keyFile)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer w.Flush()
	epoch := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := *from; i < *from+*n; i++ {
		id := fmt.Sprintf("01b00000-0000-7000-8000-%012d", i)
		v := i % *villages
		village := fmt.Sprintf("330483%03d%03d", 101+v/30, 201+v%30)
		// Region 330481 keeps these apart from the demo's heads (330483).
		birth := epoch.AddDate(0, 0, i%18000)
		stem := fmt.Sprintf("330481%s%03d", birth.Format("20060102"), (i/18000)%1000)
		check, err := idnum.CheckDigit(stem)
		if err != nil {
			log.Fatal(err)
		}
		raw := stem + string(check)
		sealed, err := kr.Seal([]byte(raw), []byte(id))
		if err != nil {
			log.Fatal(err)
		}
		name := string(surnames[i%len(surnames)]) + given[(i/len(surnames))%len(given)]
		// id, village_code, head_name, head_id_masked, head_id_key, head_id_cipher, head_id_index,
		// group_no, address, registered_on, facts_version, request_id, request_hash, create_time, update_time
		fmt.Fprintf(w, "%s,%s,%s,%s,%s,\\x%s,\\x%s,%d,模拟村%d组,2005-03-01,1,sim-%d,sim,2026-01-01 00:00:00+00,2026-01-01 00:00:00+00\n",
			id, village, name, idnum.Mask(raw), sealed.KeyID, hex.EncodeToString(sealed.Ciphertext),
			hex.EncodeToString(kr.BlindIndex(raw)), 1+i%15, 1+i%15, i)
	}
}
