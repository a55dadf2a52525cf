# ringfence: build with plain make.
#
#   make                  build/ringfence and build/netprobe
#   make SANITIZE=1 BUILD=build-san
#                         the same under AddressSanitizer and UBSan
#   make test             every test suite (needs root for the kernel tests)
#   make install          binary and man pages under $(PREFIX)

BUILD    ?= build
PREFIX   ?= /usr/local
CC       ?= cc
CFLAGS   ?= -O2 -g
VERSION  := 0.1.0

override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
	-Isrc -DRINGFENCE_VERSION='"$(VERSION)"'
LDLIBS   += -lnftables -ljansson -lmnl -lsystemd -lpthread

ifeq ($(SANITIZE),1)
override CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
override LDFLAGS += -fsanitize=address,undefined
endif

SRCS := $(sort $(wildcard src/*.c src/*/*.c))
OBJS := $(SRCS:%.c=$(BUILD)/%.o)
DEPS := $(OBJS:.o=.d)

all: $(BUILD)/ringfence $(BUILD)/netprobe $(BUILD)/docker-probe \
	$(BUILD)/delta-probe

# Everything but main.c, for test programs that drive one module.
LIBOBJS := $(filter-out $(BUILD)/src/main.o,$(OBJS))

$(BUILD)/ringfence: $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/netprobe: tests/netprobe.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

$(BUILD)/docker-probe: tests/docker_probe.c $(LIBOBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/delta-probe: tests/delta_probe.c $(LIBOBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

test: all
	tests/run-all $(BUILD)

install: $(BUILD)/ringfence
	install -D -m 0755 $(BUILD)/ringfence $(DESTDIR)$(PREFIX)/sbin/ringfence
	install -D -m 0644 contrib/ringfence.service \
		$(DESTDIR)/lib/systemd/system/ringfence.service
	install -D -m 0644 doc/ringfence.8 $(DESTDIR)$(PREFIX)/share/man/man8/ringfence.8
	install -D -m 0644 doc/ringfence.conf.5 \
		$(DESTDIR)$(PREFIX)/share/man/man5/ringfence.conf.5

clean:
	rm -rf $(BUILD)

.PHONY: all test install clean
-include $(DEPS)
