package org.g2g.data;

import java.util.ArrayList;
import java.util.List;

/**
 * How a dataset's images become a model's input, and what its labels mean: what a user needs
 * to feed a saved model without g2g. Pixels are bytes divided by {@link #PIXEL_DIVISOR} (a
 * float32 division), flattened channel by channel, each channel row by row (CIFAR's own
 * record order: the red plane, then green, then blue).
 */
public record ImageFormat(int channels, int height, int width, List<String> classNames) {
    public static final int PIXEL_DIVISOR = 255;

    public int features() { return channels * height * width; }

    /** The format of a loaded dataset (its name from {@link DataLocator#NAMES}). */
    public static ImageFormat of(Dataset d) {
        List<String> names = switch (d.name()) {
            case "fashion-mnist" -> FASHION;
            case "cifar10" -> CIFAR10;
            case "cifar100" -> CIFAR100;
            default -> digits(d.classes());
        };
        if (names.size() != d.classes()) names = digits(d.classes());
        if (d.features() == 3 * 32 * 32) return new ImageFormat(3, 32, 32, names);
        int side = (int) Math.round(Math.sqrt(d.features()));
        if (side * side == d.features()) return new ImageFormat(1, side, side, names);
        return new ImageFormat(1, 1, d.features(), names);
    }

    private static List<String> digits(int n) {
        List<String> l = new ArrayList<>();
        for (int i = 0; i < n; i++) l.add(Integer.toString(i));
        return l;
    }

    /** Label order of https://github.com/zalandoresearch/fashion-mnist. */
    static final List<String> FASHION = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
            "Shirt", "Sneaker", "Bag", "Ankle boot");

    /** batches.meta.txt of the CIFAR-10 binary version. */
    static final List<String> CIFAR10 = List.of("airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
            "horse", "ship", "truck");

    /** fine_label_names.txt of the CIFAR-100 binary version (we train on the fine labels). */
    static final List<String> CIFAR100 = List.of("apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee",
            "beetle", "bicycle", "bottle", "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle",
            "caterpillar", "cattle", "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile",
            "cup", "dinosaur", "dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house",
            "kangaroo", "keyboard", "lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple_tree",
            "motorcycle", "mountain", "mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree",
            "pear", "pickup_truck", "pine_tree", "plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon",
            "ray", "road", "rocket", "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake",
            "spider", "squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone", "television",
            "tiger", "tractor", "train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf",
            "woman", "worm");
}
