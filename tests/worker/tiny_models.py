"""Builders of tiny models with the real models' signatures and random weights, saved where the
engines expect the real files, so that tests run the engines' own loading code offline."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _byte_tokenizer():
    """An in-memory CLIP tokenizer: a 514-token byte-level vocabulary with no merges."""
    from transformers import CLIPTokenizer

    # GPT-2's reversible byte-to-character table: printable bytes map to themselves, the rest to
    # code points from 256 up.
    printable = [*range(33, 127), *range(161, 173), *range(174, 256)]
    extra = iter(range(256, 512))
    symbols = [chr(b) if b in printable else chr(next(extra)) for b in range(256)]
    vocab = {symbol: index for index, symbol in enumerate(symbols + [s + "</w>" for s in symbols])}
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)


def tiny_vae():
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        block_out_channels=[32, 64], in_channels=3, out_channels=3,
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
        up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"],
        latent_channels=4, sample_size=64,
    )


def save_tiny_sdxl(models_dir: Path, *, seed: int = 0) -> None:
    """A tiny SDXL pipeline as ``models_dir/mobius`` and a tiny VAE as the fp16-fix folder."""
    import torch
    from diffusers import EulerDiscreteScheduler, StableDiffusionXLPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64), layers_per_block=2, sample_size=32,
        in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4), use_linear_projection=True,
        addition_embed_type="text_time", addition_time_embed_dim=8,
        transformer_layers_per_block=(1, 2), projection_class_embeddings_input_dim=80,
        cross_attention_dim=64, norm_num_groups=1,
    )
    text_config = CLIPTextConfig(
        bos_token_id=0, eos_token_id=2, hidden_size=32, intermediate_size=37,
        layer_norm_eps=1e-05, num_attention_heads=4, num_hidden_layers=5, pad_token_id=1,
        vocab_size=1000, hidden_act="gelu", projection_dim=32,
    )
    pipe = StableDiffusionXLPipeline(
        vae=tiny_vae(),
        text_encoder=CLIPTextModel(text_config),
        text_encoder_2=CLIPTextModelWithProjection(text_config),
        tokenizer=_byte_tokenizer(),
        tokenizer_2=_byte_tokenizer(),
        unet=unet,
        scheduler=EulerDiscreteScheduler(
            beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
            steps_offset=1, timestep_spacing="leading",
        ),
    )
    pipe.save_pretrained(models_dir / "mobius")
    tiny_vae().save_pretrained(models_dir / "sdxl-vae-fp16-fix")


def save_tiny_onnx(path: Path, graph) -> Path:
    import onnx

    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def save_tiny_inswapper(path: Path, *, emap_seed: int = 0) -> Path:
    """A model with inswapper_128's signature: target [1,3,128,128] in 0..1 and source [1,512]
    -> [1,3,128,128]. It tints the target by a colour drawn from the source latent (its first
    three values), mixed half and half, so the output depends visibly on both inputs. The 512x512
    ``emap`` is the graph's last initializer, as insightface reads it."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(emap_seed)
    emap = rng.normal(size=(512, 512)).astype(np.float32)
    pick = np.zeros((512, 3), np.float32)
    pick[0, 0] = pick[1, 1] = pick[2, 2] = 1.0
    nodes = [
        helper.make_node("MatMul", ["source", "pick"], ["rgb"]),  # [1,3]
        helper.make_node("Mul", ["rgb", "gain"], ["rgb_scaled"]),
        helper.make_node("Sigmoid", ["rgb_scaled"], ["tint"]),  # [1,3] in 0..1
        helper.make_node("Reshape", ["tint", "tint_shape"], ["tint4"]),  # [1,3,1,1]
        helper.make_node("Mul", ["target", "half"], ["target_half"]),
        helper.make_node("Mul", ["tint4", "half"], ["tint_half"]),
        helper.make_node("Add", ["target_half", "tint_half"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes, "tiny_inswapper",
        [helper.make_tensor_value_info("target", TensorProto.FLOAT, [1, 3, 128, 128]),
         helper.make_tensor_value_info("source", TensorProto.FLOAT, [1, 512])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, 128, 128])],
        initializer=[
            numpy_helper.from_array(pick, "pick"),
            numpy_helper.from_array(np.array([40.0], np.float32), "gain"),
            numpy_helper.from_array(np.array([1, 3, 1, 1], np.int64), "tint_shape"),
            numpy_helper.from_array(np.array([0.5], np.float32), "half"),
            numpy_helper.from_array(emap, "emap"),
        ],
    )
    del onnx
    return save_tiny_onnx(path, graph)


def save_tiny_arcface(path: Path) -> Path:
    """A recognition-shaped model, [1,3,112,112] -> [1,512]: mean colour over 8x8 cells through a
    fixed random projection, so different faces give different embeddings."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(7)
    projection = rng.normal(size=(3 * 14 * 14, 512)).astype(np.float32)
    nodes = [
        helper.make_node("AveragePool", ["input.1"], ["cells"], kernel_shape=[8, 8], strides=[8, 8]),
        helper.make_node("Flatten", ["cells"], ["flat"]),
        helper.make_node("MatMul", ["flat", "projection"], ["683"]),
    ]
    graph = helper.make_graph(
        nodes, "tiny_arcface",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, 112, 112])],
        [helper.make_tensor_value_info("683", TensorProto.FLOAT, [1, 512])],
        initializer=[numpy_helper.from_array(projection, "projection")],
    )
    return save_tiny_onnx(path, graph)


def save_tiny_gfpgan(path: Path) -> Path:
    """A GFPGAN-shaped restorer, [1,3,512,512] in -1..1 -> same: it flattens contrast towards
    mid-grey (x * 0.5), a visible and deterministic change."""
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("Mul", ["input", "half"], ["output"])], "tiny_gfpgan",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 512, 512])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, 512, 512])],
        initializer=[numpy_helper.from_array(np.array([0.5], np.float32), "half")],
    )
    return save_tiny_onnx(path, graph)
