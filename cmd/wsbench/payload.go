package main

import (
	"math/rand/v2"
	"strconv"
)

// recordWords is the vocabulary of the text fields of the JSON records:
// repetitive like real application data, not as compressible as padding.
var recordWords = []string{
	"order", "shipped", "pending", "invoice", "customer", "warehouse", "north", "south",
	"blue", "large", "small", "express", "standard", "returned", "gift", "priority",
	"electronics", "garden", "kitchen", "books", "toys", "sports", "paid", "refunded",
}

// encodeRecordsMessage is encodeMessage with the data object filled by an
// "items" array of order-like records (ids, prices, words drawn from a
// small vocabulary, seeded by seq) instead of padding, so that compression
// is measured on JSON that compresses as application data does. The data
// object stops at the last whole record within payload bytes.
func encodeRecordsMessage(buf []byte, sub string, seq int, ts int64, payload int) []byte {
	buf = append(buf, `{"subscription":`...)
	buf = strconv.AppendQuote(buf, sub)
	buf = append(buf, `,"data":`...)
	dataStart := len(buf)
	buf = append(buf, `{"seq":`...)
	buf = strconv.AppendInt(buf, int64(seq), 10)
	buf = append(buf, `,"ts":`...)
	buf = strconv.AppendInt(buf, ts, 10)
	buf = append(buf, `,"items":[`...)
	rng := rand.New(rand.NewPCG(uint64(seq), 0x5eed))
	var rec []byte
	for i := 0; ; i++ {
		rec = appendRecord(rec[:0], rng, i > 0)
		if len(buf)-dataStart+len(rec)+len(`]}`) > payload {
			break
		}
		buf = append(buf, rec...)
	}
	buf = append(buf, `]}`...)
	return append(buf, '}')
}

// appendRecord appends one record, after a comma when comma is set.
func appendRecord(b []byte, rng *rand.Rand, comma bool) []byte {
	word := func() string { return recordWords[rng.IntN(len(recordWords))] }
	if comma {
		b = append(b, ',')
	}
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, int64(rng.IntN(10_000_000)), 10)
	b = append(b, `,"status":"`...)
	b = append(b, word()...)
	b = append(b, `","title":"`...)
	b = append(b, word()...)
	b = append(b, ' ')
	b = append(b, word()...)
	b = append(b, ' ')
	b = append(b, word()...)
	b = append(b, `","price":`...)
	b = strconv.AppendFloat(b, float64(rng.IntN(100000))/100, 'f', 2, 64)
	b = append(b, `,"qty":`...)
	b = strconv.AppendInt(b, int64(1+rng.IntN(20)), 10)
	return append(b, '}')
}
