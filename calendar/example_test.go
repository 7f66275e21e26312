package calendar_test

import (
	"fmt"
	"time"

	"github.com/idverify/idverify/calendar"
)

func ExampleCalendar_AddBusinessDays() {
	hk := calendar.Default().For("HK")

	// Submitted on Saturday: the clock starts on Monday at 00:00.
	saturday := time.Date(2026, time.March, 7, 10, 0, 0, 0, hk.Location())
	fmt.Println(hk.AddBusinessDays(saturday, 2))

	// Submitted late on Friday: Friday counts, and the clock time is kept.
	friday := time.Date(2026, time.March, 6, 23, 30, 0, 0, hk.Location())
	fmt.Println(hk.AddBusinessDays(friday, 2))

	// Output:
	// 2026-03-11 00:00:00 +0800 HKT
	// 2026-03-10 23:30:00 +0800 HKT
}

func ExampleLoadFile() {
	set, err := calendar.LoadFile("testdata/example.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	us := set.For("US")

	// Daylight saving time starts on Sunday 8 March 2026 in New York.
	friday := time.Date(2026, time.March, 6, 10, 0, 0, 0, us.Location())
	fmt.Println(set.Regions())
	fmt.Println(us.AddBusinessDays(friday, 2))

	// Output:
	// [CN HK SG US]
	// 2026-03-10 10:00:00 -0400 EDT
}
