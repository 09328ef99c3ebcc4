# TODO
BUNDLE := $(IMAGES_DIR)/boot.sh
