package idnum

// provinces holds the GB/T 2260 province-level codes (the first two digits of
// every region and statistical division code). It is deliberately a fixed
// list rather than a full county table: county codes change every year as
// districts merge, and an ID number stays valid for life even after its
// issuing county is abolished, so only the province level is stable enough
// to validate against.
var provinces = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true, // 华北
	"21": true, "22": true, "23": true, // 东北
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true, // 华东
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true, // 中南
	"50": true, "51": true, "52": true, "53": true, "54": true, // 西南
	"61": true, "62": true, "63": true, "64": true, "65": true, // 西北
	"71": true,             // 台湾
	"81": true, "82": true, // 香港, 澳门
}

// knownProvince reports whether code (at least two ASCII digits) starts with
// a GB/T 2260 province-level code.
func knownProvince(code string) bool {
	return len(code) >= 2 && provinces[code[:2]]
}
