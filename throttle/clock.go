package throttle

import "github.com/wsrouter/wsrouter/internal/clock"

// Clock is the time source of a Throttle. RealClock uses the time package;
// tests inject a clock.Manual.
type Clock = clock.Clock

// Timer is a pending call armed by Clock.AfterFunc.
type Timer = clock.Timer

// RealClock is the Clock backed by the time package.
var RealClock = clock.Real
